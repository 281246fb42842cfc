// Types for hasher.js (plain JavaScript so that worker threads can load it without tsx).

/** Handles one message of the scheduler (scheduler.ts); `post` gets the reply, if any, before this returns. */
export declare function handleMessage(message: unknown, post: (reply: object) => void): void
