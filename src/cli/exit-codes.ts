/** Process exit codes of the `sluice` command (documented in `sluice run --help`, the README and docs/cli.md). */
export const exitCode = {
  /** The job finished, or was stopped gracefully. */
  ok: 0,
  /** An external or internal error: a sink or source failed, a bug in Sluice. */
  failure: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /** The pipeline or its data is at fault: a bad definition, bad input under the `fail` policy. */
  userError: 3,
  /** A second SIGINT forced the process to exit before the job stopped (SIGTERM: 143). */
  interrupted: 130,
} as const

export const exitCodesHelp = `Exit codes:
  0    finished, or stopped gracefully (Ctrl-C / SIGTERM once)
  1    failure: an external system or Sluice itself failed
  2    usage error: bad flags or arguments
  3    user error: bad pipeline definition, or bad input under onError 'fail'
  130  a second Ctrl-C forced exit before the job stopped (143 for a second SIGTERM)`
