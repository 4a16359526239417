// pnpm hooks. Only `beforePacking` (pnpm >= 10.28): what `pnpm pack` and `pnpm publish` put in a
// package's published package.json. The monorepo's scripts (which call ../../scripts and tools
// installed only here) and devDependencies (workspace-only test tooling) mean nothing to users,
// so they are left out; `pnpm check:packages` checks that no packed manifest has them.
module.exports = {
  hooks: {
    beforePacking(pkg) {
      delete pkg.scripts;
      delete pkg.devDependencies;
      return pkg;
    },
  },
};
