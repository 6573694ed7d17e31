import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { renderNginxConf, renderUpstream } from "../../provisioning/files/nginx";
import { ACCESS_LOG_FILE, APP_SOCKET_DIR, appSocketPath, NGINX_API_CACHE_DIR, NGINX_UPSTREAM_FILE } from "../../provisioning/layout";
import { freePort, temporaryDirectory } from "./shell";

/**
 * Writes the site inside the rendered nginx.conf into `directory`, with the given http-level files
 * (conf.d), the upstream's sockets and the cache there too; returns the main file's path.
 */
export function writeNginxFiles(directory: string, site: string, httpLevelFiles: readonly string[] = []): string {
    fs.writeFileSync(path.join(directory, "upstream.conf"), renderUpstream([3001, 3002]).replaceAll(APP_SOCKET_DIR, directory));
    fs.writeFileSync(
        path.join(directory, "site.conf"),
        site
            .replace(NGINX_UPSTREAM_FILE, path.join(directory, "upstream.conf"))
            .replace(NGINX_API_CACHE_DIR, path.join(directory, "cache")),
    );
    httpLevelFiles.forEach((content, index) => fs.writeFileSync(path.join(directory, `http-${index}.conf`), content));
    const main = renderNginxConf()
        .replace("pid /run/nginx.pid;", `pid ${directory}/nginx.pid;`)
        .replace("error_log /var/log/nginx/error.log;", `error_log ${directory}/error.log;`)
        .replace(ACCESS_LOG_FILE, path.join(directory, "access.log"))
        .replace("include /etc/nginx/conf.d/*.conf;", `include ${directory}/http-*.conf;`)
        .replace("include /etc/nginx/sites-enabled/*;", `include ${directory}/site.conf;`);
    fs.writeFileSync(path.join(directory, "nginx.conf"), main);
    return path.join(directory, "nginx.conf");
}

/** A real nginx, started from a temporary directory, before a stand-in app on the first instance's unix socket. */
export interface NginxBeforeApp {
    /** The loopback port nginx listens on (127.0.0.1). */
    readonly port: number;
    /** The temporary directory that holds nginx's files, the app's socket and whatever the site was given there. */
    readonly directory: string;
    /** Stops nginx and the app and removes the directory. */
    stop(): void;
}

/**
 * Starts nginx on a free loopback port with the site that `renderSiteIn` renders for the directory
 * (its paths moved into it), before `app` on the first instance's unix socket.
 */
export async function startNginxBeforeApp(renderSiteIn: (directory: string) => string, app: http.RequestListener): Promise<NginxBeforeApp> {
    const directory = temporaryDirectory("webstack-nginx");
    fs.chmodSync(directory, 0o755);
    const port = await freePort();
    const server = http.createServer(app);
    const socket = appSocketPath(3001).replace(APP_SOCKET_DIR, directory);
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    fs.chmodSync(socket, 0o666);
    const main = writeNginxFiles(
        directory,
        renderSiteIn(directory)
            .replace(/listen \[::\]:80[^;]*;\n/g, "")
            .replace(/listen 80/g, `listen 127.0.0.1:${port}`),
    );
    const started = spawnSync("nginx", ["-p", directory, "-c", main], { encoding: "utf8" });
    if (started.status !== 0) {
        server.close();
        throw new Error(`nginx did not start: ${started.stderr}`);
    }
    return {
        port,
        directory,
        stop: () => {
            spawnSync("nginx", ["-p", directory, "-c", main, "-s", "stop"]);
            server.close();
            fs.rmSync(directory, { recursive: true, force: true });
        },
    };
}
