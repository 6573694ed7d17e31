// A minimal app for webstack: a visit counter in the database, its writes guarded by a token from
// the app's environment (a Pulumi secret). Plain Node.js and mysql2, no framework.
"use strict";
const http = require("node:http");
const { timingSafeEqual } = require("node:crypto");
const mysql = require("mysql2/promise");

const pool = mysql.createPool({
    socketPath: process.env.DB_SOCKET,
    database: process.env.DB_NAME,
    user: process.env.DB_USER,
    password: process.env.DB_PASSWORD,
    connectionLimit: 4,
});
const token = Buffer.from(process.env.API_TOKEN ?? "");

function authorized(request) {
    const given = Buffer.from((request.headers.authorization ?? "").replace(/^Bearer /, ""));
    return token.length > 0 && given.length === token.length && timingSafeEqual(given, token);
}

function send(response, status, body) {
    response.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

async function visits() {
    const [rows] = await pool.query("SELECT count FROM visits WHERE id = 1");
    return rows[0].count;
}

const routes = {
    "GET /health": async () => {
        await pool.query("SELECT 1");
        return [200, { status: "ok" }];
    },
    "GET /visits": async () => [200, { visits: await visits() }],
    "POST /visits": async (request) => {
        if (!authorized(request)) {
            return [401, { error: "unauthorized", message: "Send the API token as: Authorization: Bearer <token>." }];
        }
        await pool.query("UPDATE visits SET count = count + 1 WHERE id = 1");
        return [200, { visits: await visits() }];
    },
};

const server = http.createServer((request, response) => {
    const route = routes[`${request.method} ${new URL(request.url, "http://localhost").pathname}`];
    if (route === undefined) {
        return send(response, 404, { error: "not_found" });
    }
    route(request).then(
        ([status, body]) => send(response, status, body),
        (error) => {
            console.error(JSON.stringify({ msg: "request failed", error: error.message }));
            send(response, 503, { error: "unavailable" });
        },
    );
});

server.listen(Number(process.env.PORT), process.env.HOST ?? "127.0.0.1");
process.on("SIGTERM", () => server.close(() => pool.end().then(() => process.exit(0))));
