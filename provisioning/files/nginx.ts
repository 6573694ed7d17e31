import {
    API_CACHE_INACTIVE_MINUTES,
    API_CACHE_KEYS_MIB,
    API_CACHE_MAX_MIB,
    APP_INSTANCE_MAX_REQUESTS,
    NGINX_LISTEN_BACKLOG,
    NGINX_UPSTREAM_KEEPALIVE,
    NGINX_WORKER_CONNECTIONS,
    NGINX_WORKER_OPEN_FILES,
} from "../capacity";
import {
    ACCESS_LOG_FILE,
    ACME_WEBROOT,
    NGINX_API_CACHE_DIR,
    appSocketPath,
    SERVING_LINK,
    NGINX_UPSTREAM_FILE,
    NGINX_UPSTREAM_NAME,
    certificatePaths,
} from "../layout";
import { checkedWholeNumber, type IntegerBounds } from "../settingChecks";
import { wwwHostName } from "../site";
import { maintenanceHttpLines, maintenanceServerLines } from "./maintenance";

/**
 * nginx configuration: the main file, the upstream of app instances (its own file) and the site.
 * The site file is included at nginx's http level (Debian's sites-enabled), so it may hold
 * http-level directives.
 */

/**
 * How long nginx waits for an app instance's answer before it takes the instance for hung and, for
 * a request that may be repeated (GET, HEAD), asks another instance. The app answers everything
 * within its database deadline (1.5 s), so a longer silence is never a slow database.
 */
const PROXY_READ_TIMEOUT_SECONDS = 2;
/** The longest nginx spends on one request's attempts at the app, retries included. */
const UPSTREAM_ATTEMPTS_TIMEOUT_SECONDS = 10;
/** How long an instance that failed a request (refused, or silent past the read timeout) gets no requests. */
export const UPSTREAM_FAIL_TIMEOUT_SECONDS = 3;

/**
 * Debian's nginx.conf with the limits of {@link NGINX_WORKER_CONNECTIONS}: the events block, where
 * worker_connections lives, can only be in the main file.
 */
export function renderNginxConf(): string {
    return [
        "# Managed by webstack: Debian's nginx.conf, sized for many concurrent clients.",
        "user www-data;",
        "worker_processes auto;",
        "worker_cpu_affinity auto;",
        `worker_rlimit_nofile ${NGINX_WORKER_OPEN_FILES};`,
        "pid /run/nginx.pid;",
        "error_log /var/log/nginx/error.log;",
        "include /etc/nginx/modules-enabled/*.conf;",
        "",
        "events {",
        `    worker_connections ${NGINX_WORKER_CONNECTIONS};`,
        "}",
        "",
        "http {",
        "    sendfile on;",
        "    tcp_nopush on;",
        "    types_hash_max_size 2048;",
        "    server_tokens off;",
        "    include /etc/nginx/mime.types;",
        "    default_type application/octet-stream;",
        "    ssl_protocols TLSv1.2 TLSv1.3;",
        "    ssl_prefer_server_ciphers off;",
        // Written in 64 KiB blocks (at least every second) rather than a write per request.
        `    access_log ${ACCESS_LOG_FILE} combined buffer=64k flush=1s;`,
        "    gzip on;",
        // TLS sessions are looked up before the server is chosen by name, in the default server's
        // settings: defined here, every server resumes sessions (TLS 1.2 IDs, TLS 1.3 stateful
        // tickets), without ticket keys to rotate.
        "    ssl_session_cache shared:webstack_tls:10m;",
        "    ssl_session_timeout 1d;",
        "    ssl_session_tickets off;",
        "    include /etc/nginx/conf.d/*.conf;",
        "    include /etc/nginx/sites-enabled/*;",
        "}",
        "",
    ].join("\n");
}

/**
 * The app's upstream: every instance through its unix socket (cheaper than loopback TCP for both
 * nginx and the instance), with idle keepalive connections to reuse, its state shared by all
 * workers (zone). An instance that refuses a connection (restarting) or stays
 * silent (hung) is skipped for {@link UPSTREAM_FAIL_TIMEOUT_SECONDS}. A skip can be wrong: a
 * keepalive connection nginx had open to an instance's previous process fails once after a restart,
 * so right after a rolling restart both instances may stand skipped while both serve. The same
 * instances are listed again as backups, never skipped, for nginx to try when every instance above
 * is: a request then meets a refused connection at worst, which nginx passes on, never a 503 for
 * want of an instance. An instance entry already handling {@link APP_INSTANCE_MAX_REQUESTS} gets no
 * more; when every entry is full, nginx answers 503.
 */
export function renderUpstream(ports: readonly number[]): string {
    if (ports.length === 0) {
        throw new Error("The nginx upstream needs at least one app port; appInstances must be 1 or more.");
    }
    return [
        `upstream ${NGINX_UPSTREAM_NAME} {`,
        `    zone ${NGINX_UPSTREAM_NAME} 64k;`,
        ...ports.map(
            (port) =>
                `    server unix:${appSocketPath(port)} max_fails=1 fail_timeout=${UPSTREAM_FAIL_TIMEOUT_SECONDS}s max_conns=${APP_INSTANCE_MAX_REQUESTS};`,
        ),
        ...ports.map((port) => `    server unix:${appSocketPath(port)} backup max_fails=0 max_conns=${APP_INSTANCE_MAX_REQUESTS};`),
        `    keepalive ${NGINX_UPSTREAM_KEEPALIVE};`,
        "}",
        "",
    ].join("\n");
}

/**
 * The front end is served from the same origin and loads only its own files: no inline script or
 * style, no frames. Fetches go to the same origin's /api/.
 */
export const CONTENT_SECURITY_POLICY = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
].join("; ");

/** Mozilla's "intermediate" TLS ciphers (ECDHE only: no DH parameter file to manage). */
const TLS_CIPHERS = [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

export interface SiteSettings {
    /** The apex domain, for example example.com; the site is www.<domain>. */
    readonly domain: string;
    /** Serve the site over HTTPS with the certificate certbot keeps for www.<domain>. */
    readonly tls: boolean;
    /** With tls: the certificate covers the apex too, so the apex redirect is also served on 443. Defaults to false. */
    readonly includeApex?: boolean;
    /**
     * A load balancer terminates HTTPS and forwards to port 80 (the ha topology): visitors see the
     * https site (HSTS, redirects to https), and the load balancer's health check, which names no
     * site, asks {@link LOAD_BALANCER_HEALTH_PATH}. Only without tls. Defaults to false: a server
     * visitors reach directly.
     */
    readonly behindLoadBalancer?: boolean;
    /**
     * How many seconds nginx keeps the API's anonymous answers ({@link apiCacheLines}); 0 keeps none.
     * Defaults to {@link DEFAULT_API_CACHE_SECONDS}.
     */
    readonly apiCacheSeconds?: number;
    /**
     * The blocks whose requests get the site while it is in maintenance (./maintenance.ts). Not
     * behind a load balancer, whose own rule answers for the site during maintenance. Defaults to none.
     */
    readonly maintenanceAllowedCidrs?: readonly string[];
}

function indent(lines: readonly string[]): string[] {
    return lines.map((line) => (line === "" ? "" : `    ${line}`));
}

function server(lines: readonly string[]): string[] {
    return ["server {", ...indent(lines), "}", ""];
}

/** The catch-all server owns the listening sockets' options (nginx takes them once per address and port). */
const DEFAULT_SERVER = ` default_server backlog=${NGINX_LISTEN_BACKLOG}`;

function listen(port: 80 | 443, extra = ""): string[] {
    const ssl = port === 443 ? " ssl" : "";
    return [`listen ${port}${ssl}${extra};`, `listen [::]:${port}${ssl}${extra};`, ...(port === 443 ? ["http2 on;"] : [])];
}

function tlsLines(domain: string): string[] {
    const certificate = certificatePaths(domain);
    return [
        `ssl_certificate ${certificate.fullchain};`,
        `ssl_certificate_key ${certificate.privateKey};`,
        "ssl_protocols TLSv1.2 TLSv1.3;",
        `ssl_ciphers ${TLS_CIPHERS};`,
        "ssl_prefer_server_ciphers off;",
    ];
}

const ACME_CHALLENGE_LOCATION = [
    "location ^~ /.well-known/acme-challenge/ {",
    `    root ${ACME_WEBROOT};`,
    "    default_type text/plain;",
    "    try_files $uri =404;",
    "}",
];

function redirectTo(target: string): string[] {
    return ["location / {", `    return 301 ${target}$request_uri;`, "}"];
}

/** The headers every response of www.<domain> carries; a location with add_header of its own must repeat them. */
function securityHeaders(tls: boolean): string[] {
    return [
        'add_header X-Content-Type-Options "nosniff" always;',
        'add_header X-Frame-Options "DENY" always;',
        'add_header Referrer-Policy "strict-origin-when-cross-origin" always;',
        `add_header Content-Security-Policy "${CONTENT_SECURITY_POLICY}" always;`,
        ...(tls ? ['add_header Strict-Transport-Security "max-age=63072000" always;'] : []),
    ];
}

/**
 * How long nginx keeps an idle client connection open. A load balancer in front must close its idle
 * connections to nginx sooner, or it may send a request on one nginx is closing (a 502).
 */
export const CLIENT_KEEPALIVE_SECONDS = 30;

/** How soon a client may try again when nginx answers 503 for the app. */
const RETRY_AFTER_SECONDS = 1;

/** How long nginx keeps the API's anonymous answers unless told otherwise: every reader's copy is at most a second old. */
export const DEFAULT_API_CACHE_SECONDS = 1;
/** Past a minute, a reader's list is too old for a micro-cache. */
export const MAX_API_CACHE_SECONDS = 60;
/**
 * A post never changes once written (the API has no edit and no delete), so its answer is kept a
 * minute whatever the list's time; a post that does not exist yet answers 404, which is never kept.
 */
const POST_CACHE_SECONDS = 60;
const API_CACHE_ZONE = "webstack_api";

/** The cache times `apiCacheSeconds` takes; 0 turns the cache off. */
export const API_CACHE_SECONDS_BOUNDS: IntegerBounds = { min: 0, max: MAX_API_CACHE_SECONDS, example: DEFAULT_API_CACHE_SECONDS };

/** The cookie a write's answer sets: while a client holds it, its API reads skip the cache, so it sees its own write. */
export const RECENT_WRITER_COOKIE = "webstack_recent_writer";

/**
 * How long the cookie lasts: an answer kept just before the write is served for the cache's time,
 * counted in whole seconds of nginx's clock (so up to a second more), then to other readers while
 * one request refreshes it, which nginx gives up on after {@link UPSTREAM_ATTEMPTS_TIMEOUT_SECONDS}.
 */
export function recentWriterSeconds(cacheSeconds: number): number {
    return cacheSeconds + 1 + UPSTREAM_ATTEMPTS_TIMEOUT_SECONDS;
}

/**
 * The API's answers that nginx keeps, each with the rule that suits it: the posts list for the
 * cache's time, served stale while one request refreshes it and while the app fails or is
 * restarting (an error, a timeout, a 503); a post for {@link POST_CACHE_SECONDS}, the same way; the
 * release for the cache's time, stale only while refreshing, since a deploy check must hear the
 * running release or an error. Health paths and everything else under /api/ are never kept.
 */
function cachedApiLocations(seconds: number): string[] {
    const rules = [
        { location: "= /api/posts", seconds, staleWhen: "updating error timeout http_503" },
        { location: "~ ^/api/posts/[0-9]+$", seconds: POST_CACHE_SECONDS, staleWhen: "updating error timeout http_503" },
        { location: "= /api/version", seconds, staleWhen: "updating" },
    ];
    return rules.flatMap((rule) => [
        `location ${rule.location} {`,
        "    expires epoch;",
        `    proxy_cache ${API_CACHE_ZONE};`,
        `    proxy_cache_valid 200 ${rule.seconds}s;`,
        `    proxy_cache_use_stale ${rule.staleWhen};`,
        `    proxy_pass http://${NGINX_UPSTREAM_NAME};`,
        "}",
    ]);
}

/**
 * The cache's storage, and the two values its rules read: whether the app marked an answer as not
 * for sharing, and the recent writer's cookie, set on a write's 201 alone. Site-file lines at
 * nginx's http level.
 */
function apiCacheHttpLines(seconds: number, https: boolean): string[] {
    const cookie = [
        `${RECENT_WRITER_COOKIE}=1`,
        `Max-Age=${recentWriterSeconds(seconds)}`,
        "Path=/api/",
        "HttpOnly",
        "SameSite=Lax",
        ...(https ? ["Secure"] : []),
    ].join("; ");
    return [
        `proxy_cache_path ${NGINX_API_CACHE_DIR} levels=1:2 keys_zone=${API_CACHE_ZONE}:${API_CACHE_KEYS_MIB}m max_size=${API_CACHE_MAX_MIB}m inactive=${API_CACHE_INACTIVE_MINUTES}m use_temp_path=off;`,
        "map $upstream_http_cache_control $webstack_private_answer {",
        '    default "";',
        '    "~*private|no-store" 1;',
        "}",
        'map "$request_method $status" $webstack_recent_writer_cookie {',
        '    default "";',
        `    "POST 201" "${cookie}";`,
        "}",
        "",
    ];
}

/**
 * What every cached location shares (inert where no location turns the cache on). The key is all an
 * answer varies on: the visitor's scheme, the site and the path with its query (an app that varies
 * on another header says so with Vary, which nginx keeps apart). A request with a cookie or
 * credentials is someone's, not anonymous: it is answered by the app and its answer is not kept, and
 * neither is an answer the app marks private or no-store, nor one that sets a cookie (nginx's own
 * rule). The time is nginx's alone: an answer's own Cache-Control and Expires are for browsers. One
 * request per key fills the cache while the others wait for it. The response says what the cache
 * did (HIT, MISS, STALE, UPDATING, EXPIRED, BYPASS).
 */
function apiCacheServerLines(visitorScheme: string): string[] {
    return [
        `proxy_cache_key ${visitorScheme}$host$request_uri;`,
        "proxy_cache_lock on;",
        "proxy_cache_bypass $http_authorization $http_cookie;",
        "proxy_no_cache $http_authorization $http_cookie $webstack_private_answer;",
        "proxy_ignore_headers Cache-Control Expires X-Accel-Expires;",
        "add_header X-Cache-Status $upstream_cache_status always;",
        "add_header Set-Cookie $webstack_recent_writer_cookie;",
    ];
}

/**
 * A request for a file of the current release's public/ (`/` for its index.html) is served from
 * disk, and so is every .css and .js path; every other request, and anything under /api/ without
 * looking on disk, goes to the app. The headers every response of www.<domain> carries.
 */
function siteLines(tls: boolean, behindLoadBalancer: boolean, apiCacheSeconds: number): string[] {
    const visitorScheme = behindLoadBalancer ? "$http_x_forwarded_proto" : "$scheme";
    const cached = apiCacheSeconds > 0;
    return [
        `root ${SERVING_LINK}/public;`,
        "",
        "client_max_body_size 64k;",
        "client_body_timeout 10s;",
        "client_header_timeout 10s;",
        "send_timeout 10s;",
        `keepalive_timeout ${CLIENT_KEEPALIVE_SECONDS}s;`,
        "",
        ...securityHeaders(tls),
        ...(cached ? apiCacheServerLines(visitorScheme) : []),
        "",
        "gzip on;",
        "gzip_vary on;",
        "gzip_proxied any;",
        "gzip_comp_level 5;",
        "gzip_min_length 256;",
        "gzip_types text/css application/javascript application/json image/svg+xml text/plain;",
        "",
        // A refused connection (an instance restarting) is retried on another instance, and so is a
        // GET or HEAD that an instance left unanswered (hung); nginx never repeats a POST it sent.
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_set_header Host $host;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        // Behind a load balancer, the scheme is the visitor's, which the load balancer tells.
        `proxy_set_header X-Forwarded-Proto ${visitorScheme};`,
        "proxy_connect_timeout 2s;",
        "proxy_send_timeout 10s;",
        `proxy_read_timeout ${PROXY_READ_TIMEOUT_SECONDS}s;`,
        "proxy_next_upstream error timeout;",
        "proxy_next_upstream_tries 3;",
        `proxy_next_upstream_timeout ${UPSTREAM_ATTEMPTS_TIMEOUT_SECONDS}s;`,
        "",
        "location @app {",
        `    proxy_pass http://${NGINX_UPSTREAM_NAME};`,
        "}",
        "",
        // The API speaks JSON even when nginx answers for it: a body over the limit, or no app
        // instance answering or free to take the request (502 "no live upstreams", 504 timeout).
        "error_page 413 @payload_too_large;",
        "error_page 502 504 =503 @app_unavailable;",
        "location @payload_too_large {",
        "    default_type application/json;",
        `    return 413 '{"error":"payload_too_large","message":"The request body is over 64 KiB."}';`,
        "}",
        "location @app_unavailable {",
        "    default_type application/json;",
        ...indent([...securityHeaders(tls), `add_header Retry-After ${RETRY_AFTER_SECONDS} always;`]),
        `    return 503 '{"error":"app_unavailable","message":"The app is busy or not answering; try again shortly."}';`,
        "}",
        "",
        // `expires` sets Cache-Control without add_header, so the security headers above still apply.
        // A .css or .js path is always a file of the release (404 when missing): no lookup before
        // serving it, which costs a static file a tenth of its rate.
        "location ~* \\.(?:css|js)$ {",
        "    expires 1h;",
        "}",
        "location = / {",
        "    expires epoch;",
        "    try_files /index.html @app;",
        "}",
        "location / {",
        "    expires epoch;",
        "    try_files $uri @app;",
        "}",
        // The API is never a file of the release: no lookup on disk before passing a request on.
        ...(cached ? cachedApiLocations(apiCacheSeconds) : []),
        "location /api/ {",
        "    expires epoch;",
        `    proxy_pass http://${NGINX_UPSTREAM_NAME};`,
        "}",
    ];
}

/**
 * What a load balancer asks a server to learn whether it is alive: 200 when one of its app instances
 * answers HTTP at all (the app's own answer to a path it does not know, a 404, counts), and an error
 * when none does. It does not ask the database: a database outage or failover must not have Auto
 * Scaling replace every server at once, since the same database is behind them all.
 */
export const LOAD_BALANCER_HEALTH_PATH = "/webstack-alive";

/** The answers of an app instance that prove it alive without being a success of its own. */
const ANSWERS_OF_A_LIVE_APP = [400, 401, 403, 404, 405, 410];

/**
 * Hosts other than www.<domain> and the apex: closed without an answer (no TLS handshake on 443);
 * behind a load balancer, its health check's path ({@link LOAD_BALANCER_HEALTH_PATH}) alone is
 * answered.
 */
function catchAllServers(tls: boolean, behindLoadBalancer: boolean): string[] {
    const answer = behindLoadBalancer
        ? [
              `location = ${LOAD_BALANCER_HEALTH_PATH} {`,
              `    proxy_pass http://${NGINX_UPSTREAM_NAME};`,
              "    proxy_intercept_errors on;",
              `    error_page ${ANSWERS_OF_A_LIVE_APP.join(" ")} = @app_answered;`,
              "}",
              "location @app_answered {",
              "    return 200;",
              "}",
              "location / {",
              "    return 444;",
              "}",
          ]
        : ["return 444;"];
    return [
        ...server([...listen(80, DEFAULT_SERVER), "server_name _;", ...answer]),
        ...(tls ? server([...listen(443, DEFAULT_SERVER), "server_name _;", "ssl_reject_handshake on;"]) : []),
    ];
}

/**
 * The site file. Without TLS: www.<domain> on port 80, the apex redirecting to it. With TLS: www on
 * 443 (and the apex, when the certificate covers it), and port 80 redirecting to https://www.<domain>
 * except the ACME challenge path, which is served on port 80 in both forms so that certbot can obtain
 * and renew the certificate. Behind a load balancer: the https site's headers and redirects, served
 * on port 80, without the ACME challenge (the load balancer's certificate is ACM's).
 */
export function renderSite(options: SiteSettings): string {
    if (options.tls && options.behindLoadBalancer) {
        throw new Error(
            "A site behind a load balancer has no certificate of its own: the load balancer terminates HTTPS; render it without tls.",
        );
    }
    const apiCacheSeconds = checkedWholeNumber(
        "apiCacheSeconds",
        options.apiCacheSeconds ?? DEFAULT_API_CACHE_SECONDS,
        API_CACHE_SECONDS_BOUNDS,
    );
    const behindLoadBalancer = options.behindLoadBalancer ?? false;
    const visitorsUseHttps = options.tls || behindLoadBalancer;
    const www = wwwHostName(options.domain);
    const canonical = `${visitorsUseHttps ? "https" : "http"}://${www}`;
    const port = options.tls ? 443 : 80;
    const tls = options.tls ? tlsLines(options.domain) : [];
    const acmeChallenge = behindLoadBalancer ? [] : ACME_CHALLENGE_LOCATION;
    const apexRedirect = [`server_name ${options.domain};`, ...tls, ...acmeChallenge, ...redirectTo(canonical)];
    return [
        `include ${NGINX_UPSTREAM_FILE};`,
        "",
        ...(apiCacheSeconds > 0 ? apiCacheHttpLines(apiCacheSeconds, visitorsUseHttps) : []),
        ...(behindLoadBalancer ? [] : maintenanceHttpLines(options.maintenanceAllowedCidrs ?? [])),
        ...server([
            ...listen(port),
            `server_name ${www};`,
            ...tls,
            "",
            ...acmeChallenge,
            ...(behindLoadBalancer ? [] : maintenanceServerLines(securityHeaders(visitorsUseHttps))),
            ...siteLines(visitorsUseHttps, behindLoadBalancer, apiCacheSeconds),
        ]),
        ...(options.tls && !options.includeApex ? [] : server([...listen(port), ...apexRedirect])),
        ...(options.tls
            ? server([...listen(80), `server_name ${www} ${options.domain};`, ...ACME_CHALLENGE_LOCATION, ...redirectTo(canonical)])
            : []),
        ...catchAllServers(options.tls, behindLoadBalancer),
    ].join("\n");
}
