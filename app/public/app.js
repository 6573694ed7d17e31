// The posts page: talks to the JSON API under /api and shows its errors as they come.
"use strict";

const PAGE_SIZE = 20;

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

// Resolves to the parsed JSON of a 2xx answer; otherwise rejects with the API's own message.
async function api(path, options) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "application/json" }, ...options });
  } catch {
    throw new Error("The server cannot be reached; check your connection and try again.");
  }
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    const message = payload && payload.message ? payload.message : `The server answered ${response.status}.`;
    throw new Error(message);
  }
  return payload;
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

async function loadPage(before) {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (before !== null) {
    query.set("before", String(before));
  }
  elements.older.disabled = true;
  try {
    const page = await api(`/api/posts?${query}`);
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
  } finally {
    elements.older.disabled = false;
  }
}

async function submitPost(event) {
  event.preventDefault();
  const submit = elements.form.querySelector("button[type=submit]");
  submit.disabled = true;
  try {
    await api("/api/posts", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ author: elements.author.value, body: elements.body.value }),
    });
    elements.body.value = "";
    showError(elements.formError, null);
    await loadPage(null);
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
