import { inspect } from 'node:util';

/** What a deployable was starting when it failed: enough to name the variable an operator has to change. */
export interface StartupContext {
  /** The service that failed, first on the line: `gateway`, `records`, … */
  service: string;
  /**
   * The ports it listens on and the variables that set each, the first named first:
   * `{ 4003: ['PORT'], 9403: ['METRICS_PORT'] }`, or under npm start `{ 4001: ['AUTH_PORT', 'PORT_BASE'] }`.
   */
  ports?: Readonly<Record<number, readonly string[]>>;
  /**
   * The variable that names its database and that variable's value. The value is never printed (it may carry a
   * password): only the host and port read from it are.
   */
  database?: { variable: string; url?: string };
}

/** Another process of this project holds a data directory (the embedded Postgres keeps no lock of its own). */
export class DataDirInUseError extends Error {
  name = 'DataDirInUseError';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`${dir} is in use by process ${pid}`);
  }
}

// Postgres refuses the login or the database: class 28 (authorization), 3D000 (no such database), 08 (connection),
// 53 (insufficient resources: too many connections), 57P03 (starting up), 42501 (a privilege the login lacks).
const DATABASE_SQLSTATE = /^(28|3D|08|53|57P03|42501)/;
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);
const NO_SUCH_HOST = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME']);
// pg's own failures to connect carry no code: a timeout (pg-pool's connectionTimeoutMillis, pg's connect timeout),
// a connection closed before Postgres answered (a firewall, or no Postgres there), a server without TLS.
const CONNECT_TIMEOUT = /timeout exceeded when trying to connect|connection timeout/i;
const CLOSED_EARLY = /Connection terminated unexpectedly/i;
const NO_TLS = /server does not support SSL/i;
const TLS_CODE = /CERT|SELF_SIGNED|^ERR_TLS|^ERR_SSL/;

interface SystemError {
  name?: string;
  message?: string;
  code?: string;
  syscall?: string;
  address?: string;
  port?: number;
  hostname?: string;
  severity?: string;
  errors?: SystemError[];
}

/**
 * One line for a failure to start that an operator can fix — `records: DATABASE_URL: database "nope" does not
 * exist`, `gateway: PORT 4000 is already in use …` — naming the service, the variable to change and the cause, with
 * no stack and never a variable's value beyond a host, a port or a directory. Invalid configuration answers its own
 * message (a line per bad variable). Anything else is a bug: the whole error, stack included, after the service.
 */
export function describeStartupFailure(error: unknown, context: StartupContext): string {
  const known = (error ?? {}) as SystemError;
  // Its own message already names the deployable and each bad variable, a line each.
  if (known.name === 'ConfigError') return redact(String(known.message), context);
  const line = classify(known, context) ?? inspect(error);
  return redact(`${context.service}: ${line}`, context);
}

function classify(error: SystemError, context: StartupContext): string | undefined {
  if (error.name === 'MigrationError') return error.message;
  if (error instanceof DataDirInUseError)
    return `DATA_DIR: ${error.dir} is in use by another Gatehouse (process ${error.pid}): stop it, or set DATA_DIR (and PORT_BASE) to run a second one`;
  if (error.syscall === 'listen') return listenFailure(error, context);
  return databaseFailure(error, context.database);
}

function listenFailure(error: SystemError, context: StartupContext): string | undefined {
  const variables = error.port !== undefined ? context.ports?.[error.port] : undefined;
  const what = variables?.length ? `${variables[0]} ${error.port}` : `port ${error.port}`;
  const fix = variables?.length ? ` set ${variables.join(' or ')}` : '';
  switch (error.code) {
    case 'EADDRINUSE':
      return `${what} is already in use (is another Gatehouse running?):${fix ? ` stop it, or${fix}` : ' stop what holds it'}`;
    case 'EACCES':
      return `${what}: permission denied (ports below 1024 need privileges)${fix ? `;${fix}` : ''}`;
    case 'EADDRNOTAVAIL':
      return `HOST ${error.address} is not an address of this machine`;
    default:
      return undefined;
  }
}

// A service waits on one connection only while it starts, its database's (keys, Redis and the subgraphs are retried
// in the background): a failure to connect then is the database variable's, named by the host the operator wrote.
function databaseFailure(error: SystemError, database: StartupContext['database']): string | undefined {
  const prefix = database ? `${database.variable}: ` : '';
  if (typeof error.severity === 'string' && typeof error.code === 'string' && DATABASE_SQLSTATE.test(error.code)) {
    // Postgres's own words: `database "nope" does not exist`, `password authentication failed for user "x"`.
    const hint = error.code === '3D000' ? ' (create it first)' : '';
    return `${prefix}${error.message}${hint}`;
  }
  const code = error.code ?? error.errors?.find((inner) => inner.code)?.code;
  const where = target(error, database?.url);
  if (code && UNREACHABLE.has(code)) return `${prefix}cannot reach ${where ?? 'the server'} (${code})`;
  if (code && NO_SUCH_HOST.has(code)) return `${prefix}cannot resolve ${error.hostname ?? where ?? 'the host'} (${code})`;
  // Without a code, only a database we know of can be blamed.
  if (!database?.url || !error.message) return undefined;
  if (CONNECT_TIMEOUT.test(error.message)) return `${prefix}cannot reach ${where ?? 'the server'} (timed out)`;
  if (CLOSED_EARLY.test(error.message))
    return `${prefix}cannot reach ${where ?? 'the server'} (the connection closed before Postgres answered)`;
  if (NO_TLS.test(error.message)) return `${prefix}the server does not support TLS (drop sslmode from the URL, or enable TLS on it)`;
  if (code && TLS_CODE.test(code)) return `${prefix}TLS: ${error.message} (${code})`;
  return undefined;
}

/** host:port of the failed connection: from the URL the operator wrote, else from the error. */
function target(error: SystemError, url: string | undefined): string | undefined {
  if (url) {
    try {
      const parsed = new URL(url);
      if (parsed.hostname) return `${parsed.hostname}:${parsed.port || '5432'}`;
    } catch {
      // Not a URL: fall back to the error's own address.
    }
  }
  const inner = error.address ? error : error.errors?.find((candidate) => candidate.address);
  return inner?.address ? `${inner.address}${inner.port ? `:${inner.port}` : ''}` : undefined;
}

/** A database URL's password never reaches the output, even inside a message that quoted it. */
function redact(line: string, context: StartupContext): string {
  const url = context.database?.url;
  if (!url) return line;
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // Not a URL: nothing to find in it but the whole value.
  }
  let safe = line.split(url).join(`<${context.database?.variable}>`);
  // A very short password would also match ordinary words; Postgres never quotes it anyway.
  if (password.length >= 4) safe = safe.split(password).join('***');
  return safe;
}
