#!/usr/bin/env node
// Launcher for the `sluice` command. Kept to syntax every Node can parse, so that an older Node prints
// a clear message instead of failing on code it cannot load. `sluice/cli` resolves through the package's
// exports: the compiled build in an installed package, the TypeScript sources in the repository.
const major = Number(process.versions.node.split('.')[0])
if (!(major >= 22)) {
  process.stderr.write(
    'Sluice needs Node 22 or later (this is Node ' + process.versions.node + ').\n' +
      'Install a current LTS release from https://nodejs.org, or add the npm package `node` (e.g. node@24) to the project.\n',
  )
  process.exit(2)
}
import('sluice/cli').then(
  (cli) => cli.runCli(process.argv.slice(2)),
  (e) => {
    process.stderr.write('sluice: cannot start: ' + (e && e.message ? e.message : String(e)) + '\n')
    process.exit(1)
  },
)
