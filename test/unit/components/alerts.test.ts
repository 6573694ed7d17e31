import { expect } from "chai";
import {
    creditMode,
    fleetAlarms,
    instanceAlarms,
    SITE_DOWN_ALARM,
    SITE_HEALTH_CHECK_TIMING,
    type AlarmSpec,
} from "../../../components/alerts";
import { alarmFires } from "../../support/cloudWatchAlarm";
import { healthCheckStatusPerMinute } from "../../support/route53HealthCheck";

/** The suffixes of the alarms that fire on these metrics, one datapoint per five minutes, the newest last. */
function firing(alarms: readonly AlarmSpec[], series: Record<string, number[]>): string[] {
    return alarms.filter((spec) => alarmFires(spec, series)).map((spec) => spec.suffix);
}

/** A new unlimited-mode machine's first quarter hour: no launch credits, so the balance starts at zero and fills. */
const NEW_UNLIMITED = { CPUCreditBalance: [0, 1, 2], CPUSurplusCreditsCharged: [0, 0, 0], StatusCheckFailed: [0, 0, 0] };

describe("creditMode", () => {
    it("is standard for t2 and unlimited for t3, t3a and t4g, as EC2 launches them and RDS runs them", () => {
        expect(["t2.micro", "t3.micro", "t3a.small", "t4g.micro"].map(creditMode)).to.deep.equal([
            "standard",
            "unlimited",
            "unlimited",
            "unlimited",
        ]);
    });
});

describe("instanceAlarms, as CloudWatch evaluates them", () => {
    it("stay quiet on a healthy new t3.micro, whose credit balance starts at zero", () => {
        expect(firing(instanceAlarms("t3.micro"), NEW_UNLIMITED)).to.deep.equal([]);
    });

    it("mail when a t3 is charged for surplus credits, or fails its status checks", () => {
        expect(firing(instanceAlarms("t3.micro"), { ...NEW_UNLIMITED, CPUSurplusCreditsCharged: [0, 0, 4] })).to.deep.equal([
            "cpu-credits",
        ]);
        expect(firing(instanceAlarms("t3.micro"), { ...NEW_UNLIMITED, StatusCheckFailed: [0, 1, 1] })).to.deep.equal(["status-check"]);
    });

    it("watch a t2's balance, which starts with launch credits and throttles the server when empty", () => {
        expect(firing(instanceAlarms("t2.micro"), { CPUCreditBalance: [30, 30, 29], StatusCheckFailed: [0, 0] })).to.deep.equal([]);
        expect(firing(instanceAlarms("t2.micro"), { CPUCreditBalance: [12, 6, 1], StatusCheckFailed: [0, 0] })).to.deep.equal([
            "cpu-credits",
        ]);
    });
});

describe("fleetAlarms, as CloudWatch evaluates them", () => {
    const specs = fleetAlarms("db.t4g.micro").map(({ spec }) => spec);
    const healthyNewFleet = {
        ...NEW_UNLIMITED,
        UnHealthyHostCount: [0, 0, 0],
        CPUUtilization: [4, 3, 3],
        FreeStorageSpace: [20 * 1024 ** 3],
    };

    it("stay quiet on a healthy new fleet, its db.t4g database's credit balance starting at zero", () => {
        expect(firing(specs, healthyNewFleet)).to.deep.equal([]);
    });

    it("mail when the database is charged for surplus credits or a server stays unhealthy", () => {
        expect(firing(specs, { ...healthyNewFleet, CPUSurplusCreditsCharged: [0, 0, 2] })).to.deep.equal(["database-cpu-credits"]);
        expect(firing(specs, { ...healthyNewFleet, UnHealthyHostCount: [1, 1, 1] })).to.deep.equal(["unhealthy-servers"]);
    });
});

describe("the site-down alarm, as Route53's checks and CloudWatch evaluate it", () => {
    const statusOf = (downFrom: number, downUntil: number, firstCheckAt: number) => ({
        HealthCheckStatus: healthCheckStatusPerMinute({ downFrom, downUntil, minutes: 15, firstCheckAt, ...SITE_HEALTH_CHECK_TIMING }),
    });
    const phases = Array.from({ length: SITE_HEALTH_CHECK_TIMING.requestInterval }, (_, second) => second);

    it("stays quiet through a planned reboot of up to 30 seconds, however the checks fall", () => {
        for (const firstCheckAt of phases) {
            expect(alarmFires(SITE_DOWN_ALARM, statusOf(300, 330, firstCheckAt)), `checks from ${firstCheckAt} s`).to.equal(false);
        }
    });

    it("pages for a reboot that does not come back, within five minutes", () => {
        for (const firstCheckAt of phases) {
            const status = statusOf(300, Infinity, firstCheckAt);
            expect(
                alarmFires(SITE_DOWN_ALARM, { HealthCheckStatus: status.HealthCheckStatus.slice(0, 10) }),
                `checks from ${firstCheckAt} s`,
            ).to.equal(true);
        }
    });
});
