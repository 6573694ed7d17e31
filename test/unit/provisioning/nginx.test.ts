import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import {
    CONTENT_SECURITY_POLICY,
    DEFAULT_API_CACHE_SECONDS,
    RECENT_WRITER_COOKIE,
    recentWriterSeconds,
    renderNginxConf,
    renderSite,
    renderUpstream,
} from "../../../provisioning/files/nginx";
import { renderLoadBalancerTrust } from "../../../provisioning/files/fleet";
import { NGINX_API_CACHE_DIR, NGINX_UPSTREAM_FILE } from "../../../provisioning/layout";
import { startNginxBeforeApp, writeNginxFiles, type NginxBeforeApp } from "../../support/nginx";
import { temporaryDirectory } from "../../support/shell";
import { request, type HttpAnswer } from "../../support/http";

/** The server block whose server_name line is exactly `names`. */
function serverBlock(site: string, names: string): string {
    const block = site.split(/^server \{$/m).find((candidate) => candidate.includes(`server_name ${names};`));
    if (!block) {
        throw new Error(`no server block for ${names} in:\n${site}`);
    }
    return block.slice(0, block.indexOf("\n}\n"));
}

/** Runs `nginx -t` on the site inside the rendered nginx.conf, with the given http-level files (conf.d), and expects no complaint. */
function expectAcceptedByNginx(site: string, httpLevelFiles: readonly string[] = []): void {
    const directory = temporaryDirectory("webstack-nginx");
    try {
        const main = writeNginxFiles(directory, site, httpLevelFiles);
        const result = spawnSync("nginx", ["-t", "-q", "-p", directory, "-c", main], { encoding: "utf8" });
        expect(result.error, "nginx is not installed: apt-get install nginx").to.equal(undefined);
        expect(result.stderr).to.equal("");
        expect(result.status).to.equal(0);
    } finally {
        fs.rmSync(directory, { recursive: true, force: true });
    }
}

describe("renderUpstream", () => {
    it("lists every instance by its unix socket and keeps connections alive", () => {
        expect(renderUpstream([3001, 3002])).to.equal(
            [
                "upstream webstack_app {",
                "    zone webstack_app 64k;",
                "    server unix:/run/webstack-app/3001.sock max_fails=1 fail_timeout=3s max_conns=64;",
                "    server unix:/run/webstack-app/3002.sock max_fails=1 fail_timeout=3s max_conns=64;",
                "    server unix:/run/webstack-app/3001.sock backup max_fails=0 max_conns=64;",
                "    server unix:/run/webstack-app/3002.sock backup max_fails=0 max_conns=64;",
                "    keepalive 64;",
                "}",
                "",
            ].join("\n"),
        );
    });

    it("refuses an empty upstream", () => {
        expect(() => renderUpstream([])).to.throw(/at least one app port/);
    });
});

describe("renderNginxConf", () => {
    it("keeps one access log, written in blocks at least every second rather than a write per request", () => {
        expect(renderNginxConf().match(/access_log/g)).to.have.length(1);
        expect(renderNginxConf()).to.contain("    access_log /var/log/webstack/access.log combined buffer=64k flush=1s;\n");
        expect(renderSite({ domain: "example.com", tls: true })).not.to.contain("access_log");
    });
});

describe("renderSite without TLS", () => {
    const site = renderSite({ domain: "example.com", tls: false });
    const www = serverBlock(site, "www.example.com");

    it("hides the version and includes the upstream file", () => {
        expect(renderNginxConf().slice(renderNginxConf().indexOf("http {"))).to.contain("\n    server_tokens off;\n");
        expect(site).not.to.contain("server_tokens");
        expect(site).to.contain(`include ${NGINX_UPSTREAM_FILE};`);
    });

    it("serves www on port 80 over IPv4 and IPv6 from the public/ of the release that serves (its first instance answered)", () => {
        expect(www).to.contain("listen 80;\n    listen [::]:80;");
        expect(www).to.contain("root /opt/webstack/serving/public;");
        expect(site).not.to.contain("443");
    });

    it("serves a path from disk when the release has that file, proxies every other request to the upstream, and retries a refused connection elsewhere", () => {
        expect(www).to.contain("location @app {\n        proxy_pass http://webstack_app;");
        expect(www).to.contain("location = / {\n        expires epoch;\n        try_files /index.html @app;");
        expect(www).to.contain("location / {\n        expires epoch;\n        try_files $uri @app;");
        expect(www.match(/proxy_pass/g)).to.have.length(5);
        expect(www).to.contain("proxy_next_upstream error timeout;");
        expect(www).to.contain('proxy_set_header Connection "";');
        expect(www).to.match(/proxy_read_timeout \d+s;/);
    });

    it("passes anything under /api/ to the app without looking for a file on disk first", () => {
        expect(www).to.contain("location /api/ {\n        expires epoch;\n        proxy_pass http://webstack_app;\n    }");
        expect(www).to.contain("location = /api/posts {\n        expires epoch;\n        proxy_cache webstack_api;");
    });

    it("caches css and js for an hour, has browsers revalidate every other file, and compresses", () => {
        expect(www).to.match(/location ~\* \\\.\(\?:css\|js\)\$ \{\n\s+expires 1h;\n\s+\}/);
        expect(www).to.match(/location \/ \{\n\s+expires epoch;/);
        expect(www).to.contain("gzip on;");
        expect(www).to.contain("application/javascript");
    });

    it("sends the security headers on every response and limits request bodies", () => {
        for (const header of ["X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy"]) {
            expect(www).to.match(new RegExp(`add_header ${header} ".+" always;`));
        }
        expect(CONTENT_SECURITY_POLICY).to.contain("frame-ancestors 'none'");
        expect(www).to.contain("client_max_body_size 64k;");
        expect(www).not.to.contain("Strict-Transport-Security");
    });

    it("answers in JSON when nginx itself refuses a body or finds no app instance", () => {
        expect(www).to.contain("error_page 413 @payload_too_large;");
        expect(www).to.contain("error_page 502 504 =503 @app_unavailable;");
        expect(www).to.match(
            /location @payload_too_large \{\n\s+default_type application\/json;\n\s+return 413 '\{"error":"payload_too_large"/,
        );
        expect(www).to.match(
            /location @app_unavailable \{\n\s+default_type application\/json;\n(\s+add_header .+\n)+\s+return 503 '\{"error":"app_unavailable"/,
        );
    });

    it("tells a client when to try again after a 503, with the security headers its own add_header would otherwise drop", () => {
        const appUnavailable = www.slice(www.indexOf("location @app_unavailable {"));
        expect(appUnavailable).to.contain("add_header Retry-After 1 always;");
        expect(appUnavailable).to.contain(`add_header Content-Security-Policy "${CONTENT_SECURITY_POLICY}" always;`);
    });

    it("serves the ACME challenge from the webroot", () => {
        expect(www).to.contain("location ^~ /.well-known/acme-challenge/ {\n        root /var/www/acme;");
    });

    it("redirects the apex to http://www with a 301", () => {
        expect(serverBlock(site, "example.com")).to.contain("return 301 http://www.example.com$request_uri;");
    });

    it("closes the connection for any other host", () => {
        expect(serverBlock(site, "_")).to.contain(
            "listen 80 default_server backlog=4096;\n    listen [::]:80 default_server backlog=4096;\n    server_name _;\n    return 444;",
        );
    });

    it("is accepted by nginx -t, inside the rendered nginx.conf", () => {
        expectAcceptedByNginx(site);
    });
});

describe("renderSite with TLS", () => {
    const site = renderSite({ domain: "example.com", tls: true });
    const www = serverBlock(site, "www.example.com");

    it("serves www on 443 with HTTP/2, TLS 1.2 and 1.3 only, and HSTS", () => {
        expect(www).to.contain("listen 443 ssl;\n    listen [::]:443 ssl;\n    http2 on;");
        expect(www).to.contain("ssl_certificate /etc/letsencrypt/live/www.example.com/fullchain.pem;");
        expect(www).to.contain("ssl_certificate_key /etc/letsencrypt/live/www.example.com/privkey.pem;");
        expect(www).to.contain("ssl_protocols TLSv1.2 TLSv1.3;");
        expect(www).to.match(/ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:[A-Z0-9:-]+;/);
        expect(www).to.contain('add_header Strict-Transport-Security "max-age=63072000" always;');
        expect(www).to.contain("proxy_pass http://webstack_app;");
    });

    it("resumes TLS sessions in every server: the cache is set where the default server has it too, at the http level", () => {
        expect(site).not.to.contain("ssl_session_cache");
        const http = renderNginxConf().slice(renderNginxConf().indexOf("http {"));
        expect(http).to.contain(
            "    ssl_session_cache shared:webstack_tls:10m;\n    ssl_session_timeout 1d;\n    ssl_session_tickets off;",
        );
    });

    it("redirects port 80 to https://www, except the ACME challenge", () => {
        const http = serverBlock(site, "www.example.com example.com");
        expect(http).to.contain("listen 80;");
        expect(http).to.contain("location ^~ /.well-known/acme-challenge/ {");
        expect(http).to.contain("return 301 https://www.example.com$request_uri;");
    });

    it("serves no apex on 443 when the certificate does not cover it", () => {
        expect(site).to.not.match(/server_name example\.com;/);
    });

    it("redirects the apex on 443 to https://www when the certificate covers it", () => {
        const apex = serverBlock(renderSite({ domain: "example.com", tls: true, includeApex: true }), "example.com");
        expect(apex).to.contain("listen 443 ssl;");
        expect(apex).to.contain("ssl_certificate /etc/letsencrypt/live/www.example.com/fullchain.pem;");
        expect(apex).to.contain("return 301 https://www.example.com$request_uri;");
    });

    it("refuses the TLS handshake for any other host", () => {
        expect(site).to.contain(
            "listen 443 ssl default_server backlog=4096;\n    listen [::]:443 ssl default_server backlog=4096;\n    http2 on;\n    server_name _;\n    ssl_reject_handshake on;",
        );
    });
});

describe("renderSite behind a load balancer", () => {
    const site = renderSite({ domain: "example.com", tls: false, behindLoadBalancer: true });
    const www = serverBlock(site, "www.example.com");

    it("serves www on port 80 only, with no certificate and no ACME challenge: the load balancer terminates HTTPS", () => {
        expect(www).to.contain("listen 80;\n    listen [::]:80;");
        expect(site).not.to.match(/443|ssl_certificate|acme-challenge/);
    });

    it("sends the https site's headers, HSTS among them, since visitors reach it over HTTPS", () => {
        expect(www).to.contain('add_header Strict-Transport-Security "max-age=63072000" always;');
        expect(serverBlock(site, "example.com")).to.contain("return 301 https://www.example.com$request_uri;");
    });

    it("passes on the scheme the load balancer saw, not its own plain HTTP", () => {
        expect(www).to.contain("proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;");
        expect(renderSite({ domain: "example.com", tls: false })).to.contain("proxy_set_header X-Forwarded-Proto $scheme;");
    });

    it("answers the load balancer's health check, which names no site, with 200 whenever an app instance answers at all, the database aside", () => {
        const catchAll = serverBlock(site, "_");
        expect(catchAll).to.contain(
            "location = /webstack-alive {\n        proxy_pass http://webstack_app;\n        proxy_intercept_errors on;\n        error_page 400 401 403 404 405 410 = @app_answered;\n    }",
        );
        expect(catchAll).to.contain("location @app_answered {\n        return 200;\n    }");
        expect(catchAll).to.contain("location / {\n        return 444;\n    }");
    });

    it("refuses TLS of its own", () => {
        expect(() => renderSite({ domain: "example.com", tls: true, behindLoadBalancer: true })).to.throw(/load balancer terminates HTTPS/);
    });

    it("is accepted by nginx -t, with the load balancer's addresses trusted for X-Forwarded-For", () => {
        expectAcceptedByNginx(site, [renderLoadBalancerTrust(["172.31.0.0/16", "2600:1f18::/56"])]);
    });
});

/** The location block that opens with `opening`, up to its closing brace. */
function locationBlock(block: string, opening: string): string {
    const start = block.indexOf(`location ${opening} {`);
    if (start < 0) {
        throw new Error(`no location ${opening} in:\n${block}`);
    }
    return block.slice(start, block.indexOf("}", start) + 1);
}

describe("renderSite's API micro-cache", () => {
    const site = renderSite({ domain: "example.com", tls: false });
    const www = serverBlock(site, "www.example.com");

    it("keeps the posts list for the configured seconds, served stale while one request refreshes it and while the app fails or restarts", () => {
        const list = locationBlock(renderSite({ domain: "example.com", tls: false, apiCacheSeconds: 5 }), "= /api/posts");
        expect(list).to.contain("proxy_cache webstack_api;");
        expect(list).to.contain("proxy_cache_valid 200 5s;");
        expect(list.match(/proxy_cache_valid/g), "only 200s are kept").to.have.length(1);
        expect(list).to.contain("proxy_cache_use_stale updating error timeout http_503;");
        expect(locationBlock(www, "= /api/posts")).to.contain(`proxy_cache_valid 200 ${DEFAULT_API_CACHE_SECONDS}s;`);
    });

    it("keeps a post, which never changes once written, for a minute; the release for the configured seconds, stale only while refreshing", () => {
        const post = locationBlock(www, "~ ^/api/posts/[0-9]+$");
        expect(post).to.contain("proxy_cache_valid 200 60s;");
        expect(post).to.contain("proxy_cache_use_stale updating error timeout http_503;");
        const version = locationBlock(www, "= /api/version");
        expect(version).to.contain(`proxy_cache_valid 200 ${DEFAULT_API_CACHE_SECONDS}s;`);
        expect(version).to.contain("proxy_cache_use_stale updating;");
    });

    it("keeps nothing else: not the rest of /api/, not the health paths nor any other path the app answers", () => {
        expect(www.match(/proxy_cache webstack_api;/g)).to.have.length(3);
        expect(locationBlock(www, "/api/")).not.to.contain("proxy_cache");
        expect(locationBlock(www, "@app")).not.to.contain("proxy_cache");
    });

    it("keys an answer by the visitor's scheme, the site and the path with its query, and sends one request per key to the app", () => {
        expect(www).to.contain("proxy_cache_key $scheme$host$request_uri;");
        expect(www).to.contain("proxy_cache_lock on;");
        const behind = serverBlock(renderSite({ domain: "example.com", tls: false, behindLoadBalancer: true }), "www.example.com");
        expect(behind).to.contain("proxy_cache_key $http_x_forwarded_proto$host$request_uri;");
    });

    it("answers a request with a cookie or credentials from the app, and keeps neither its answer nor one the app marks private, no-store, or that sets a cookie", () => {
        expect(www).to.contain("proxy_cache_bypass $http_authorization $http_cookie;");
        expect(www).to.contain("proxy_no_cache $http_authorization $http_cookie $webstack_private_answer;");
        expect(site).to.contain(
            'map $upstream_http_cache_control $webstack_private_answer {\n    default "";\n    "~*private|no-store" 1;\n}',
        );
        expect(www, "nginx keeps no answer that sets a cookie unless told to ignore Set-Cookie").not.to.match(
            /proxy_ignore_headers.*Set-Cookie/,
        );
        expect(www).to.contain("proxy_ignore_headers Cache-Control Expires X-Accel-Expires;");
    });

    it("says what the cache did in X-Cache-Status, on errors too", () => {
        expect(www).to.contain("add_header X-Cache-Status $upstream_cache_status always;");
    });

    it("sets the recent writer's cookie on a write's 201 alone, for the cache's time and the longest refresh, Secure when visitors use HTTPS", () => {
        expect(www).to.contain("add_header Set-Cookie $webstack_recent_writer_cookie;");
        expect(recentWriterSeconds(1)).to.equal(12);
        expect(site).to.contain(
            `map "$request_method $status" $webstack_recent_writer_cookie {\n    default "";\n    "POST 201" "${RECENT_WRITER_COOKIE}=1; Max-Age=12; Path=/api/; HttpOnly; SameSite=Lax";\n}`,
        );
        expect(renderSite({ domain: "example.com", tls: true })).to.contain('SameSite=Lax; Secure";');
        expect(renderSite({ domain: "example.com", tls: false, behindLoadBalancer: true })).to.contain('SameSite=Lax; Secure";');
    });

    it("bounds the cache for a 1 GiB server: keys in 2 MiB of shared memory, answers in 64 MiB on disk", () => {
        expect(site).to.contain(
            `proxy_cache_path ${NGINX_API_CACHE_DIR} levels=1:2 keys_zone=webstack_api:2m max_size=64m inactive=10m use_temp_path=off;`,
        );
    });

    it("keeps nothing with 0 seconds: no cache, no cookie, no cache status", () => {
        const off = renderSite({ domain: "example.com", tls: false, apiCacheSeconds: 0 });
        expect(off).not.to.match(/proxy_cache|webstack_recent_writer|X-Cache-Status/);
        expect(off.match(/proxy_pass/g)).to.have.length(2);
        expectAcceptedByNginx(off);
    });

    it("refuses a time that is not a whole number of seconds from 0 to 60, naming the setting", () => {
        for (const seconds of [-1, 1.5, 61]) {
            expect(() => renderSite({ domain: "example.com", tls: false, apiCacheSeconds: seconds })).to.throw(
                `apiCacheSeconds is ${seconds}; expected a whole number from 0 to 60, for example 1.`,
            );
        }
    });

    it("is accepted by nginx -t, and so is the fleet's form", () => {
        expectAcceptedByNginx(site);
        expectAcceptedByNginx(renderSite({ domain: "example.com", tls: false, behindLoadBalancer: true, apiCacheSeconds: 30 }));
    });
});

describe("renderSite's API micro-cache in a real nginx, before a stand-in app", function () {
    this.timeout(30_000);
    /** What the stand-in app adds to its answer of a path, and how many times it was asked. */
    const extraHeaders: Record<string, Record<string, string>> = {
        "/api/posts?limit=1": { "Set-Cookie": "session=abc; Path=/" },
        "/api/posts?limit=2": { "Cache-Control": "private" },
        "/api/posts?limit=3": { "Cache-Control": "no-store" },
        "/api/posts?limit=4": {},
    };
    const asked: Record<string, number> = {};
    let nginx: NginxBeforeApp;
    let site: { address: string; port: number; hostName: string };

    before(async () => {
        nginx = await startNginxBeforeApp(
            () => renderSite({ domain: "example.com", tls: false }),
            (incoming, answer) => {
                const url = incoming.url ?? "";
                asked[url] = (asked[url] ?? 0) + 1;
                answer.writeHead(200, { "Content-Type": "application/json", ...extraHeaders[url] });
                answer.end(JSON.stringify({ asked: asked[url] }));
            },
        );
        site = { address: "127.0.0.1", port: nginx.port, hostName: "www.example.com" };
    });

    after(() => nginx?.stop());

    const twice = async (url: string): Promise<HttpAnswer[]> => [await request(site, "GET", url), await request(site, "GET", url)];

    it("keeps a plain answer: the second read is a hit the app never sees", async () => {
        const answers = await twice("/api/posts?limit=4");
        expect(answers.map((answer) => answer.headers["x-cache-status"])).to.deep.equal(["MISS", "HIT"]);
        expect(asked["/api/posts?limit=4"]).to.equal(1);
    });

    it("never keeps an answer that sets a cookie, so no kept answer carries one", async () => {
        const answers = await twice("/api/posts?limit=1");
        expect(answers.map((answer) => answer.headers["x-cache-status"])).to.deep.equal(["MISS", "MISS"]);
        expect(answers.map((answer) => answer.headers["set-cookie"])).to.deep.equal([["session=abc; Path=/"], ["session=abc; Path=/"]]);
        expect(asked["/api/posts?limit=1"]).to.equal(2);
    });

    it("never keeps an answer the app marks private or no-store", async () => {
        for (const url of ["/api/posts?limit=2", "/api/posts?limit=3"]) {
            const answers = await twice(url);
            expect(
                answers.map((answer) => answer.headers["x-cache-status"]),
                url,
            ).to.deep.equal(["MISS", "MISS"]);
            expect(asked[url], url).to.equal(2);
        }
    });
});
