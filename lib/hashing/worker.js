// A hashing worker thread: the pool (pool.ts) starts one per core and each does what hasher.js
// says with the scheduler's messages. Plain JavaScript: see kernel.js for why.
import { parentPort } from 'node:worker_threads'
import { handleMessage } from './hasher.js'

const post = (reply) => parentPort.postMessage(reply)
parentPort.on('message', (message) => handleMessage(message, post))
