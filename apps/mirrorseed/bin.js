#!/usr/bin/env node
// The `mirrorseed` command. The sources are TypeScript run through tsx's loader: there is no build
// step, so what runs is always what is checked in.
import { register } from 'tsx/esm/api'

register()
await import('./main.ts')
