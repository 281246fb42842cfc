/**
 * Files written whole or not at all: a temp name beside the file, synced, renamed into place,
 * the folder synced. Node built-ins only, so a command that writes one file (`create`) loads
 * nothing else.
 */
export { stageFile, syncFolder, tempName, writeFileAtomically, type StagedFile } from './atomic.ts'
