/**
 * An app that crashes at start, before it listens: a release built from it never gets healthy
 * (the failed-deploy end-to-end test). The message is what its journal shows.
 */
throw new Error("this release crashes at start, on purpose");
