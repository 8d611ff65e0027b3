#!/usr/bin/env node
// Launcher for the `sluice` command. Kept to syntax every Node can parse, so that an older Node prints
// a clear message instead of failing on the TypeScript sources it cannot load.
const major = Number(process.versions.node.split('.')[0])
if (!(major >= 24)) {
  process.stderr.write(
    'Sluice needs Node 24 or later (this is Node ' + process.versions.node + ').\n' +
      'Run it with `npx sluice ...` from the project, which uses the pinned Node.\n',
  )
  process.exit(2)
}
import('../src/cli/main.ts').then(
  (cli) => cli.runCli(process.argv.slice(2)),
  (e) => {
    process.stderr.write('sluice: cannot start: ' + (e && e.message ? e.message : String(e)) + '\n')
    process.exit(1)
  },
)
