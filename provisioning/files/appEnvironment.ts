/**
 * The app's own environment file, read by systemd (EnvironmentFile=) for every instance. Its values
 * may be secrets: nothing here ever puts a value into an error message.
 */

/** Names the platform sets for every instance (its unit and the database settings the server generates); an app cannot override them. */
export const PLATFORM_ENVIRONMENT_NAMES = [
    "NODE_ENV",
    "HOST",
    "PORT",
    "WEBSTACK_APP_SOCKET",
    "NODE_OPTIONS",
    "RELEASE_ID",
    "DB_SOCKET",
    "DB_HOST",
    "DB_PORT",
    "DB_TLS_CA_FILE",
    "DB_NAME",
    "DB_USER",
    "DB_PASSWORD",
    "DB_POOL_SIZE",
    "DB_QUEUE_LIMIT",
] as const;

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What is wrong with the environment, one entry per variable, naming it but never quoting its value. */
export function appEnvironmentProblems(environment: Readonly<Record<string, string>>): string[] {
    return Object.entries(environment).flatMap(([name, value]) => {
        if (!VARIABLE_NAME.test(name)) {
            return [
                `${JSON.stringify(name)} is not a variable name (letters, digits and _, not starting with a digit, for example API_TOKEN)`,
            ];
        }
        if ((PLATFORM_ENVIRONMENT_NAMES as readonly string[]).includes(name)) {
            return [`${name} is set by webstack for every instance; give the app's setting another name`];
        }
        if (typeof value !== "string") {
            return [`${name} is not a string; give its value as text`];
        }
        if (/[\n\r\0]/.test(value)) {
            return [
                `${name}'s value holds a line break or a NUL byte, which an environment file cannot carry; encode it (for example in base64)`,
            ];
        }
        return [];
    });
}

/** systemd reads `\`, `"`, `$` and a backquote after a backslash as themselves inside double quotes. */
function quoted(value: string): string {
    return `"${value.replace(/[\\"$`]/g, (character) => `\\${character}`)}"`;
}

/** The environment file: one `NAME="value"` line per variable, sorted by name, so the same environment writes the same bytes. */
export function renderAppEnvironment(environment: Readonly<Record<string, string>>): string {
    const problems = appEnvironmentProblems(environment);
    if (problems.length > 0) {
        throw new Error(`appEnvironment: ${problems.join("; ")}.`);
    }
    const lines = Object.keys(environment)
        .sort()
        .map((name) => `${name}=${quoted(environment[name])}`);
    return ["# Managed by webstack: the app's own environment.", ...lines, ""].join("\n");
}
