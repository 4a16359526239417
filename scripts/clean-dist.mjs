// Removes the package's dist/ before a build, so files of deleted sources (or old source maps) are never packed.
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
