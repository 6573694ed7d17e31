// The maintenance page and the API's maintenance answer, with the operator's message. Plain
// JavaScript, so that one renderer serves both sides: the program renders them for the load
// balancer's fixed response (the ha topology), and webstack-maintenance runs this very file on the
// server (`node maintenance-page.cjs html|json MESSAGE`). Small enough for the load balancer's
// 1,024-character body, and with no inline style or script, which the site's CSP refuses.
"use strict";

function escapeHtml(text) {
    return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function renderPage(message) {
    return [
        "<!doctype html>",
        '<html lang="en">',
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Down for maintenance</title>",
        "<h1>Down for maintenance</h1>",
        `<p>${escapeHtml(message)}</p>`,
        "",
    ].join("\n");
}

function renderAnswer(message) {
    return `${JSON.stringify({ error: "maintenance", message })}\n`;
}

module.exports = { renderPage, renderAnswer };

if (require.main === module) {
    const [form, message] = process.argv.slice(2);
    process.stdout.write(form === "json" ? renderAnswer(message) : renderPage(message));
}
