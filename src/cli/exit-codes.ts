/** Process exit codes of the `sluice` command (documented in `sluice run --help`, the README and docs/cli.md). */
export const exitCode = {
  /** The job finished, or was stopped by `sluice stop` or `sluice savepoint --stop`. */
  ok: 0,
  /** An external or internal error: a sink or source failed, a bug in Sluice. */
  failure: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /** The pipeline or its data is at fault: a bad definition, bad input under the `fail` policy. */
  userError: 3,
  /** Stopped by Ctrl-C (SIGINT): gracefully after the first, at once after a second. */
  interrupted: 130,
  /** Stopped by SIGTERM, gracefully or (a second one) at once. */
  terminated: 143,
} as const

export const exitCodesHelp = `Exit codes:
  0    finished, or stopped by 'sluice stop' or 'sluice savepoint --stop'
  1    failure: an external system or Sluice itself failed
  2    usage error: bad flags or arguments
  3    user error: bad pipeline definition, type errors, or bad input under onError 'fail'
  130  stopped by Ctrl-C (SIGINT): gracefully (sinks flushed) after one, at once after a second
  143  stopped by SIGTERM, the same way`
