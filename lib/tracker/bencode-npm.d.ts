// The npm `bencode` package ships no types; tests use it only as an independent decoder of our
// replies, so `any` is all they need.
declare module 'bencode'
