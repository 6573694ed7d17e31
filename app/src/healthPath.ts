/** The path the posts app answers 200 on while it reaches its database: what deploys and Route53 ask. */
export const HEALTH_PATH = "/healthz";
