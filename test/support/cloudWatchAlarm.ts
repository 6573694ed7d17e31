import type { AlarmSpec } from "../../components/alerts";

/**
 * Whether CloudWatch puts an alarm in ALARM, as its documentation describes the evaluation of an
 * alarm without "datapoints to alarm" (N out of N): each of the last `evaluationPeriods` periods
 * breaches, a period with no data counting as `treatMissingData` says.
 */
export function alarmFires(spec: AlarmSpec, series: Readonly<Record<string, readonly number[]>>): boolean {
    const datapoints = series[spec.metricName] ?? [];
    const periods = Array.from(
        { length: spec.evaluationPeriods },
        (_, index) => datapoints[datapoints.length - spec.evaluationPeriods + index],
    );
    return periods.every((value) =>
        value === undefined
            ? spec.treatMissingData === "breaching"
            : spec.comparisonOperator === "LessThanThreshold"
              ? value < spec.threshold
              : value >= spec.threshold,
    );
}
