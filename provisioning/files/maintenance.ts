import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { cidrsProblem, throwIf } from "../settingChecks";
import { MAINTENANCE_DIR, MAINTENANCE_RENDERER } from "../layout";

/**
 * Maintenance mode: while it is on, nginx answers every request for the site with 503, Retry-After
 * and the operator's message (a page, or JSON under /api/), except requests from the allowed
 * addresses, which get the site, and the ACME challenge, so that a certificate still renews. It is
 * on while {@link MAINTENANCE_DIR} holds the page, which webstack-maintenance writes and removes:
 * nginx looks for the file on every request, so the switch needs no reload and takes effect at once.
 */

/** What a visitor reads unless the operator says otherwise. */
export const DEFAULT_MAINTENANCE_MESSAGE = "The site is down for maintenance and will be back shortly.";
/** A message longer than this would not fit the load balancer's fixed response (1,024 characters with the page around it). */
export const MAX_MAINTENANCE_MESSAGE_LENGTH = 150;
/** How soon a client is told to come back: crawlers keep the site's pages meanwhile, API clients wait this long. */
export const MAINTENANCE_RETRY_AFTER_SECONDS = 300;
/** How soon a writer is told to send a paused write again: the pause lasts while the replacement server catches up, a few seconds. */
export const WRITE_PAUSE_RETRY_AFTER_SECONDS = 5;
/**
 * The files of {@link MAINTENANCE_DIR}: the page is the switch; the API's answer is written before it
 * and removed after it. `writesPaused` is the write pause's switch (webstack-writes).
 */
export const MAINTENANCE_FILES = { page: "page.html", answer: "answer.json", writesPaused: "writes-paused" } as const;
/** What a paused write gets: JSON, as the API's errors are, which says to send it again. */
export const WRITE_PAUSE_ANSWER = {
    error: "writes_paused",
    message: "The site is moving to a new server. Send this request again in a few seconds, with the same Idempotency-Key.",
} as const;

/** Maintenance mode as `pulumi up` leaves it. */
export interface MaintenanceSettings {
    /** Whether the site is in maintenance. Defaults to false. */
    readonly enabled?: boolean;
    /** What visitors read, one line of at most {@link MAX_MAINTENANCE_MESSAGE_LENGTH} characters. Defaults to {@link DEFAULT_MAINTENANCE_MESSAGE}. */
    readonly message?: string;
    /** CIDR blocks (IPv4 or IPv6) whose requests get the site during maintenance: the operators checking their work. Defaults to none. */
    readonly allowedCidrs?: readonly string[];
}

interface MaintenanceRenderer {
    renderPage(message: string): string;
    renderAnswer(message: string): string;
}
// The server runs the same file (webstack-maintenance), hence plain JavaScript.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const renderer = require("./maintenance-page.cjs") as MaintenanceRenderer;

/** The renderer's source, which the server runs from {@link MAINTENANCE_RENDERER}. */
export function renderMaintenanceRenderer(): string {
    return readFileSync(join(__dirname, basename(MAINTENANCE_RENDERER)), "utf8");
}

/** The maintenance page with the message, as nginx and the load balancer serve it. */
export function renderMaintenancePage(message: string): string {
    return renderer.renderPage(message);
}

/** The API's maintenance answer with the message (JSON). */
export function renderMaintenanceAnswer(message: string): string {
    return renderer.renderAnswer(message);
}

/** Why `message` cannot be the maintenance message (for the caller to prefix with where it came from), or undefined when it can. */
export function maintenanceMessageProblem(message: string): string | undefined {
    if (message.trim() === "") {
        return `is empty; say what visitors should know, for example "${DEFAULT_MAINTENANCE_MESSAGE}"`;
    }
    if (message.length > MAX_MAINTENANCE_MESSAGE_LENGTH) {
        return `is ${message.length} characters long; at most ${MAX_MAINTENANCE_MESSAGE_LENGTH} fit the page`;
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(message)) {
        return "has a control character (a line break or a tab); write it on one line";
    }
    return undefined;
}

/** The problems of maintenance settings, each naming the field and the rule; none when they can be applied. */
export function maintenanceProblems(settings: MaintenanceSettings): string[] {
    const messageProblem = settings.message === undefined ? undefined : maintenanceMessageProblem(settings.message);
    const cidrsIssue = cidrsProblem("maintenance.allowedCidrs", settings.allowedCidrs ?? []);
    return [
        ...(messageProblem === undefined ? [] : [`maintenance.message ${messageProblem}.`]),
        ...(cidrsIssue === undefined ? [] : [cidrsIssue]),
    ];
}

/**
 * Site-file lines at nginx's http level: whether a request comes from an allowed block (after
 * realip, the client's own address), whether maintenance applies to it, and which answer it gets.
 */
export function maintenanceHttpLines(allowedCidrs: readonly string[]): string[] {
    throwIf(cidrsProblem("maintenance.allowedCidrs", allowedCidrs));
    return [
        "geo $webstack_maintenance_allowed {",
        "    default 0;",
        ...allowedCidrs.map((cidr) => `    ${cidr} 1;`),
        "}",
        'map "$webstack_maintenance_allowed:$uri" $webstack_maintenance_applies {',
        "    default 1;",
        '    "~^1:" 0;',
        '    "~^0:/\\.well-known/acme-challenge/" 0;',
        "}",
        // $request_uri stays the client's while the request is passed to the maintenance location.
        "map $request_uri $webstack_maintenance_file {",
        `    default ${MAINTENANCE_FILES.page};`,
        `    "~^/api/" ${MAINTENANCE_FILES.answer};`,
        "}",
        // What the write pause holds back: every method that may change something (RFC 9110's unsafe ones).
        "map $request_method $webstack_write_request {",
        "    default 1;",
        "    GET 0;",
        "    HEAD 0;",
        "    OPTIONS 0;",
        "}",
        "",
    ];
}

/** Where the maintenance answers live in the site's URI space: internal, under the server's own control. */
const MAINTENANCE_LOCATION = "/webstack-maintenance/";
/** Where a paused write is answered: internal, beside the maintenance answers. */
const WRITE_PAUSE_LOCATION = "/webstack-writes-paused";

/**
 * Site lines at the server level: a request maintenance applies to goes to an internal location
 * that answers 503, whose error page is the page or the API's answer. The rewrite runs before any
 * location is chosen, and the 503's error page is that location's alone, so no other 503 is taken
 * for maintenance. The error page is a URI, not a named location, so that a POST reads it as a GET
 * (nginx serves no file to a POST); nginx passes it through the server's rewrites again, hence the
 * guard. `headers` are the site's add_header lines, which a location with add_header of its own
 * must repeat.
 */
export function maintenanceServerLines(headers: readonly string[]): string[] {
    return [
        "set $webstack_maintenance 0;",
        `if (-f ${MAINTENANCE_DIR}/${MAINTENANCE_FILES.page}) {`,
        "    set $webstack_maintenance $webstack_maintenance_applies;",
        "}",
        `if ($uri ~ ^${MAINTENANCE_LOCATION}) {`,
        "    set $webstack_maintenance 0;",
        "}",
        "if ($webstack_maintenance) {",
        `    rewrite ^ ${MAINTENANCE_LOCATION}503 last;`,
        "}",
        `location ^~ ${MAINTENANCE_LOCATION} {`,
        "    internal;",
        `    alias ${MAINTENANCE_DIR}/;`,
        "    charset utf-8;",
        ...comeBackLaterHeaders(headers, MAINTENANCE_RETRY_AFTER_SECONDS),
        `    location = ${MAINTENANCE_LOCATION}503 {`,
        `        error_page 503 ${MAINTENANCE_LOCATION}$webstack_maintenance_file;`,
        "        return 503;",
        "    }",
        "}",
        ...writePauseServerLines(headers),
    ];
}

/**
 * A 503's headers inside a location: the site's own (a location with add_header of its own must
 * repeat them), when to come back, and that nobody keeps the answer.
 */
function comeBackLaterHeaders(headers: readonly string[], retryAfterSeconds: number): string[] {
    return [...headers, `add_header Retry-After ${retryAfterSeconds} always;`, 'add_header Cache-Control "no-store" always;'].map(
        (line) => `    ${line}`,
    );
}

/**
 * The write pause, while the site moves to a replacement server (webstack-writes): while
 * {@link MAINTENANCE_DIR} holds its switch, every write gets 503 with a short Retry-After and JSON
 * that says to send it again; reads are served as ever. Maintenance, when on, answers first (its
 * rewrite ends the server's rewrites). The answer is nginx's own `return`, so a POST gets it too and
 * no error page passes it through the rewrites again.
 */
function writePauseServerLines(headers: readonly string[]): string[] {
    return [
        "set $webstack_write_pause 0;",
        `if (-f ${MAINTENANCE_DIR}/${MAINTENANCE_FILES.writesPaused}) {`,
        "    set $webstack_write_pause $webstack_write_request;",
        "}",
        "if ($webstack_write_pause) {",
        `    rewrite ^ ${WRITE_PAUSE_LOCATION} last;`,
        "}",
        `location = ${WRITE_PAUSE_LOCATION} {`,
        "    internal;",
        "    default_type application/json;",
        ...comeBackLaterHeaders(headers, WRITE_PAUSE_RETRY_AFTER_SECONDS),
        `    return 503 '${JSON.stringify(WRITE_PAUSE_ANSWER)}\\n';`,
        "}",
    ];
}
