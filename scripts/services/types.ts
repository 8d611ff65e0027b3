/** What one service module of `npm run services` provides. */
export interface ServiceModule {
  /** Short name, used on the command line (`npm run services -- kafka`) and by tests. */
  readonly name: string;
  /** One line for `npm run services -- --list`. */
  readonly description: string;
  /**
   * Makes sure the service runs on loopback: returns at once when it already answers, otherwise installs
   * what is missing and starts it detached (it outlives this script). Must be idempotent.
   */
  ensure(ctx: ServiceContext): Promise<ServiceInfo>;
  /** Stops what `ensure` started (by the PID it recorded), if anything. */
  stop?(ctx: ServiceContext): Promise<void>;
}

export interface ServiceContext {
  /** Folder for this service's data, logs and PID file (under `.services/` in the repository). */
  readonly dir: string;
  /** Writes one progress line. */
  log(message: string): void;
}

/** How tests reach a running service. */
export interface ServiceInfo {
  /** Connection details tests read, e.g. `{ url: 'postgres://sluice@127.0.0.1:55432/sluice' }`. */
  readonly [key: string]: string | number | boolean;
}
