// The posts page: talks to the JSON API under /api and shows its errors as they come.
"use strict";

const PAGE_SIZE = 20;
// How long to wait before sending a post again when the server is busy or its answer was lost.
const RETRY_DELAYS_MS = [500, 1000, 2000];
const MAX_RETRY_AFTER_MS = 5000;
// While the list cannot be loaded, it is tried again this often, so the page recovers by itself.
const LIST_RECOVERY_INTERVAL_MS = 3000;

const elements = {
    release: document.getElementById("release"),
    form: document.getElementById("new-post"),
    author: document.getElementById("author"),
    body: document.getElementById("body"),
    formError: document.getElementById("form-error"),
    listError: document.getElementById("list-error"),
    posts: document.getElementById("posts"),
    empty: document.getElementById("empty"),
    older: document.getElementById("older"),
};

let nextBefore = null;
let recoveryTimer = null;

// An error to show, and whether the same request may simply be sent again.
function apiError(message, retryable, retryAfterMs) {
    return Object.assign(new Error(message), { retryable, retryAfterMs });
}

// Resolves to the parsed JSON of a 2xx answer; otherwise rejects with the API's own message. A lost
// connection and a 503 (busy, or the database restarting) are marked retryable.
async function api(path, options) {
    let response;
    try {
        response = await fetch(path, { headers: { Accept: "application/json" }, ...options });
    } catch {
        throw apiError("The server cannot be reached; check your connection and try again.", true);
    }
    const payload = await response.json().catch(() => null);
    if (!response.ok) {
        const message = payload && payload.message ? payload.message : `The server answered ${response.status}.`;
        const retryAfterSeconds = Number(response.headers.get("Retry-After"));
        const retryAfterMs = retryAfterSeconds > 0 ? Math.min(retryAfterSeconds * 1000, MAX_RETRY_AFTER_MS) : undefined;
        throw apiError(message, response.status === 503, retryAfterMs);
    }
    return payload;
}

// api(), sent again after a retryable failure a few times. Only for requests that are safe to
// repeat: reads, and writes that carry an Idempotency-Key.
async function apiWithRetries(path, options) {
    for (let attempt = 0; ; attempt += 1) {
        try {
            return await api(path, options);
        } catch (error) {
            if (!error.retryable || attempt >= RETRY_DELAYS_MS.length) {
                throw error;
            }
            await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs ?? RETRY_DELAYS_MS[attempt]));
        }
    }
}

// A fresh key for each submission, so that its retries store the post once. crypto.randomUUID needs
// HTTPS, and the site may be served over plain HTTP; getRandomValues works on both.
function newIdempotencyKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function showError(element, error) {
    element.textContent = error ? error.message : "";
    element.hidden = !error;
}

function postItem(post) {
    const item = document.createElement("li");
    const meta = document.createElement("div");
    meta.className = "meta";
    const when = new Date(post.createdAt);
    meta.textContent = `${post.author} · ${when.toLocaleString()}`;
    const body = document.createElement("p");
    body.className = "body";
    body.textContent = post.body;
    item.append(meta, body);
    return item;
}

// Loads the newest page again later, and the release with it, until the API answers.
function scheduleRecovery() {
    if (recoveryTimer === null) {
        recoveryTimer = setTimeout(() => {
            recoveryTimer = null;
            showRelease();
            loadPage(null);
        }, LIST_RECOVERY_INTERVAL_MS);
    }
}

async function loadPage(before) {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (before !== null) {
        query.set("before", String(before));
    }
    elements.older.disabled = true;
    try {
        const page = await apiWithRetries(`/api/posts?${query}`);
        if (before === null) {
            elements.posts.replaceChildren();
        }
        elements.posts.append(...page.posts.map(postItem));
        nextBefore = page.nextBefore;
        elements.older.hidden = nextBefore === null;
        elements.empty.hidden = elements.posts.childElementCount > 0;
        showError(elements.listError, null);
    } catch (error) {
        showError(elements.listError, error);
        if (before === null) {
            scheduleRecovery();
        }
    } finally {
        elements.older.disabled = false;
    }
}

async function submitPost(event) {
    event.preventDefault();
    const submit = elements.form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
        const post = await apiWithRetries("/api/posts", {
            method: "POST",
            headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": newIdempotencyKey() },
            body: JSON.stringify({ author: elements.author.value, body: elements.body.value }),
        });
        elements.body.value = "";
        showError(elements.formError, null);
        // Shown from the 201 itself: the list other readers get may be a moment old.
        elements.posts.prepend(postItem(post));
        elements.empty.hidden = true;
    } catch (error) {
        showError(elements.formError, error);
    } finally {
        submit.disabled = false;
    }
}

async function showRelease() {
    try {
        elements.release.textContent = (await api("/api/version")).release;
    } catch {
        elements.release.textContent = "unknown";
    }
}

elements.form.addEventListener("submit", submitPost);
elements.older.addEventListener("click", () => loadPage(nextBefore));
showRelease();
loadPage(null);
