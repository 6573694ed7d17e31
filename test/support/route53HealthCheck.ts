/**
 * Route53's HealthCheckStatus for a site that is down from `downFrom` to `downUntil` (seconds, the
 * end excluded; Infinity for a site that never comes back), as its documentation describes a
 * checker: a check every `requestInterval` seconds from `firstCheckAt`, the endpoint unhealthy after
 * `failureThreshold` failures in a row and healthy again after as many successes. One value a
 * minute, the minimum over the minute, as the site-down alarm reads it.
 */
export function healthCheckStatusPerMinute(options: {
    readonly downFrom: number;
    readonly downUntil: number;
    readonly minutes: number;
    readonly firstCheckAt: number;
    readonly requestInterval: number;
    readonly failureThreshold: number;
}): number[] {
    const statusAt: { at: number; healthy: boolean }[] = [];
    let healthy = true;
    let streak = 0;
    for (let at = options.firstCheckAt; at < options.minutes * 60; at += options.requestInterval) {
        const answered = at < options.downFrom || at >= options.downUntil;
        streak = answered === healthy ? 0 : streak + 1;
        if (streak >= options.failureThreshold) {
            healthy = answered;
            streak = 0;
        }
        statusAt.push({ at, healthy });
    }
    return Array.from({ length: options.minutes }, (_, minute) =>
        Math.min(
            ...statusAt.filter((check) => check.at >= minute * 60 && check.at < (minute + 1) * 60).map((check) => (check.healthy ? 1 : 0)),
        ),
    );
}
