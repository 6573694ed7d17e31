import { shellQuote } from "../../provisioning/script";

/**
 * The fleet sandbox's stand-in for the Application Load Balancer: HAProxy on a server of its own. Like
 * the ALB it terminates HTTPS, redirects HTTP, adds X-Forwarded-For and X-Forwarded-Proto, checks each
 * target's health path and sends requests only to healthy targets, or to every registered target
 * when none is healthy (the ALB fails open); a target is registered once it is launched and
 * deregistered before it is stopped. Unlike the ALB it also retries a GET on another target when the
 * connection fails or closes without an answer, which is what makes a powered-off target invisible here.
 */

export const HAPROXY_CONFIG_FILE = "/etc/haproxy/haproxy.cfg";
export const HAPROXY_CERTIFICATE_FILE = "/etc/haproxy/site.pem";
export const HAPROXY_ADMIN_SOCKET = "/run/haproxy/admin.sock";
/** The backend every target is in; the runtime API names a target `<backend>/<target>`. */
export const TARGET_BACKEND = "app";
/** Each answer names the target that served it (a sandbox-only header, for the tests). */
export const TARGET_HEADER = "X-Sandbox-Target";

export interface LoadBalancerTarget {
    /** The target's name in HAProxy, for example app1. */
    readonly name: string;
    readonly address: string;
}

export interface LoadBalancerSettings {
    readonly targets: readonly LoadBalancerTarget[];
    /** The path the health check asks (the app's readiness through nginx). */
    readonly healthPath: string;
    /** Seconds between health checks; two failures take a target out, two passes put it in. */
    readonly healthCheckIntervalSeconds: number;
}

/** haproxy.cfg for the stand-in. */
export function renderHaproxyConfig(settings: LoadBalancerSettings): string {
    if (settings.targets.length === 0) {
        throw new Error("The load balancer needs at least one target.");
    }
    return [
        "# Managed by the webstack fleet sandbox: the stand-in for the Application Load Balancer.",
        "global",
        `    stats socket ${HAPROXY_ADMIN_SOCKET} mode 600 level admin`,
        "    ssl-default-bind-options ssl-min-ver TLSv1.2",
        "",
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 60s",
        "    timeout server 30s",
        "    timeout http-keep-alive 60s",
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response response-timeout",
        "",
        "frontend http",
        "    bind :80",
        "    http-request redirect scheme https code 301",
        "",
        "frontend https",
        `    bind :443 ssl crt ${HAPROXY_CERTIFICATE_FILE} alpn h2,http/1.1`,
        "    option forwardfor",
        "    http-request set-header X-Forwarded-Proto https",
        // A request that may have reached a target is repeated only when repeating it is harmless.
        "    http-request disable-l7-retry unless METH_GET || METH_HEAD",
        `    http-response set-header ${TARGET_HEADER} %s`,
        `    default_backend ${TARGET_BACKEND}`,
        "",
        `backend ${TARGET_BACKEND}`,
        "    balance roundrobin",
        "    option httpchk",
        `    http-check send meth GET uri ${settings.healthPath}`,
        "    http-check expect status 200",
        `    default-server check inter ${settings.healthCheckIntervalSeconds}s fall 2 rise 2`,
        // Every slot starts unregistered; each target is listed again, unchecked, as a backup: when no
        // target passes its health check, requests go to every registered one.
        "    option allbackups",
        ...settings.targets.map((target) => `    server ${target.name} ${target.address}:80 disabled`),
        ...settings.targets.map((target) => `    server ${failOpenName(target.name)} ${target.address}:80 backup no-check disabled`),
        "",
    ].join("\n");
}

/** The unchecked backup entry of a target, used only when no target is healthy. */
function failOpenName(target: string): string {
    return `${target}-open`;
}

/** The runtime API command that registers a target with the load balancer (health checks start), or deregisters it (no new requests). */
export function registrationCommand(target: string, registered: boolean): string {
    const state = registered ? "ready" : "maint";
    return [target, failOpenName(target)].map((name) => `set server ${TARGET_BACKEND}/${name} state ${state}`).join("; ");
}

/** What the stand-in's image has installed (its image layer): HAProxy, and socat for its admin socket. */
export const LOAD_BALANCER_PACKAGES = ["haproxy", "socat"] as const;

/** The root script that sets up HAProxy on the stand-in's server (with {@link LOAD_BALANCER_PACKAGES}): its configuration and certificate (key and chain in one PEM). */
export function loadBalancerSetupScript(config: string, certificateWithKeyPem: string): string {
    return [
        "set -euo pipefail",
        `printf '%s' ${shellQuote(certificateWithKeyPem)} > ${HAPROXY_CERTIFICATE_FILE}`,
        `chmod 600 ${HAPROXY_CERTIFICATE_FILE}`,
        `printf '%s' ${shellQuote(config)} > ${HAPROXY_CONFIG_FILE}`,
        `haproxy -c -q -f ${HAPROXY_CONFIG_FILE}`,
        "systemctl enable --quiet haproxy",
        "systemctl restart haproxy",
        "",
    ].join("\n");
}

/** A runtime API command for the admin socket, as a root command line on the stand-in's server. */
export function adminCommand(command: string): string {
    return `echo ${shellQuote(command)} | socat stdio ${HAPROXY_ADMIN_SOCKET}`;
}

/**
 * srv_admin_state's flags of a server taken out of service: forced or inherited maintenance, drain,
 * an unresolved address. The flag of "disabled" in the configuration (0x04) stays set after the
 * server is put back in service.
 */
const OUT_OF_SERVICE = 0x01 | 0x02 | 0x08 | 0x10 | 0x20;

/**
 * The registered targets that pass their health checks, from the runtime API's `show servers state`:
 * srv_op_state (field 6) is 2 when a server is up, srv_admin_state (field 7) has no flag of
 * {@link OUT_OF_SERVICE}. The fail-open backups are not targets of their own.
 */
export function targetsUp(serversState: string): string[] {
    return serversState
        .split("\n")
        .map((line) => line.trim().split(/\s+/))
        .filter(
            (fields) =>
                fields.length > 6 && fields[1] === TARGET_BACKEND && /^\d+$/.test(fields[0]) && !fields[3].endsWith(failOpenName("")),
        )
        .filter((fields) => fields[5] === "2" && (Number(fields[6]) & OUT_OF_SERVICE) === 0)
        .map((fields) => fields[3]);
}
