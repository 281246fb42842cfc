/** One file per distribution layout; the order is the order in which auto-detection asks. */
import { alpine } from './alpine.ts'
import { arch } from './arch.ts'
import { debian } from './debian.ts'
import { fedora } from './fedora.ts'
import { generic } from './generic.ts'
import { gentoo } from './gentoo.ts'
import { opensuse } from './opensuse.ts'
import { ubuntu } from './ubuntu.ts'

export { alpine, arch, debian, fedora, generic, gentoo, opensuse, ubuntu }
