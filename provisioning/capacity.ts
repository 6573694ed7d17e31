import { MAX_APP_INSTANCES } from "./layout";

/**
 * How much the server takes on at once, sized for the default instance (t3.micro: 2 vCPU, 1 GiB, no
 * swap). Each layer's limit is derived here from the one before it, so that they agree: nginx holds
 * far more client connections than it forwards; it forwards to an app instance no more requests
 * than that instance may queue for a database connection; and the pools of the most instances a
 * server runs fit in MariaDB's max_connections. A request beyond a limit gets a quick 503 with
 * Retry-After, never a reset or a 500.
 */

/** Client and upstream connections per nginx worker (Debian's default is 768). */
export const NGINX_WORKER_CONNECTIONS = 4096;
/** A proxied request holds two descriptors (client and upstream); the rest is for files being served. */
export const NGINX_WORKER_OPEN_FILES = 2 * NGINX_WORKER_CONNECTIONS + 1024;
/** Connections the kernel queues for nginx before it accepts them (Linux's somaxconn default). */
export const NGINX_LISTEN_BACKLOG = 4096;

/** Requests nginx has in flight to one app instance at once; beyond that nginx answers 503 at once. */
export const APP_INSTANCE_MAX_REQUESTS = 64;
/**
 * Idle connections to the app each nginx worker keeps for reuse: as many as an instance entry takes
 * at once, so that a busy worker does not close and reopen upstream connections (in a benchmark run
 * here, 64 instead of 16 halved the proxied API's p99 and raised its rate by about a tenth).
 */
export const NGINX_UPSTREAM_KEEPALIVE = APP_INSTANCE_MAX_REQUESTS;
/** Database connections per app instance: queries take milliseconds, so a few serve many requests. */
export const APP_DB_POOL_SIZE = 8;
/**
 * Every request nginx lets through may wait for a database connection, and no more can arrive: an
 * instance is listed twice in the upstream (as itself and as a backup), each entry with its own limit.
 */
export const APP_DB_QUEUE_LIMIT = 2 * APP_INSTANCE_MAX_REQUESTS;
/** Descriptors per app instance: its requests, its pool, and files, with room to spare. */
export const APP_OPEN_FILES = 4096;

/**
 * Memory per app instance, on a server without swap: the JavaScript heap stops short of the cgroup's
 * hard limit, so a leak makes the instance collect garbage harder, then fail and restart alone,
 * rather than starve the database. Two instances at the limit leave the database its share of 1 GiB.
 */
export const APP_HEAP_MIB = 128;
export const APP_MEMORY_HIGH_MIB = 176;
export const APP_MEMORY_MAX_MIB = 208;

/**
 * When memory runs out all the same, the kernel kills app instances first (systemd restarts them),
 * then nginx or the journal (back within a second, losing only requests in flight and buffered log
 * lines), and MariaDB last: the data outlives any request. Raising a score needs no privilege, but
 * lowering MariaDB's needs CAP_SYS_RESOURCE, which a container may not have (systemd then ignores
 * it); the others' scores alone keep MariaDB last as long as it holds less than
 * {@link SERVICE_OOM_SCORE_ADJUST}/1000 of the memory (MariaDB's default buffer pool is 128 MiB).
 */
export const APP_OOM_SCORE_ADJUST = 500;
export const SERVICE_OOM_SCORE_ADJUST = 300;
export const DATABASE_OOM_SCORE_ADJUST = -600;

/** The journal's share of the disk and of memory: it can never fill either. */
export const JOURNAL_MAX_DISK_MIB = 200;
export const JOURNAL_MAX_RUNTIME_MIB = 32;

/**
 * The access log's share of the disk: rotated daily, or as soon as it is over its size, checked every
 * few minutes (a saturated server writes about 150 MiB in five), and a week of old logs kept
 * compressed. It stays within a few hundred MiB whatever the traffic.
 */
export const ACCESS_LOG_MAX_MIB = 100;
export const ACCESS_LOGS_KEPT = 7;
export const LOG_ROTATION_CHECK_MINUTES = 5;

/**
 * The API's micro-cache on a 1 GiB server: its keys in shared memory (a MiB holds about 8,000; the
 * least recently used answer goes first when full), its answers on disk within a bound that the page
 * cache can hold beside the stack, and an answer nobody asked for in a while dropped.
 */
export const API_CACHE_KEYS_MIB = 2;
export const API_CACHE_MAX_MIB = 64;
export const API_CACHE_INACTIVE_MINUTES = 10;

/** Connections kept for everything but the app: migrations, the nightly dump, an operator's client. */
const MARIADB_RESERVED_CONNECTIONS = 10;
/** Enough for the pools of the most app instances a server runs, plus the reserve; each costs memory. */
export const MARIADB_MAX_CONNECTIONS = MAX_APP_INSTANCES * APP_DB_POOL_SIZE + MARIADB_RESERVED_CONNECTIONS;
