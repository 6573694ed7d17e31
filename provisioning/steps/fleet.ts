import {
    checkedCaBundle,
    renderAppUnitFleetDropIn,
    renderCredentialsRefreshService,
    renderCredentialsRefreshTimer,
    renderDatabaseCredentialsCommand,
    renderLoadBalancerTrust,
} from "../files/fleet";
import {
    APP_DATABASE_ENV_FILE,
    APP_UNIT_FLEET_DROP_IN,
    CREDENTIALS_REFRESH_TIMER,
    CREDENTIALS_REFRESH_UNIT,
    DATABASE_CA_FILE,
    DATABASE_CREDENTIALS_COMMAND,
    NGINX_LOAD_BALANCER_FILE,
} from "../layout";
import { RunStep } from "../plan";
import { runStepFrom, scriptBody } from "../script";

/** A fleet's server joins its fleet: the shared database's credentials, and the load balancer in front. */
export function fleetStep(): RunStep {
    return runStepFrom("fleet", "fleet", (fleet) => ({
        description: `Join the fleet: the database at ${fleet.database.host}:${fleet.database.port}, the load balancer from ${fleet.loadBalancerCidrs.join(", ")}.`,
        settings: {
            DATABASE_CA_FILE,
            DATABASE_CA: checkedCaBundle(fleet.database.trustedCaPem),
            DATABASE_CREDENTIALS_COMMAND,
            DATABASE_CREDENTIALS_SCRIPT: renderDatabaseCredentialsCommand(fleet.region, fleet.database),
            APP_DATABASE_ENV_FILE,
            APP_UNIT_FLEET_DROP_IN,
            APP_UNIT_FLEET_SETTINGS: renderAppUnitFleetDropIn(),
            CREDENTIALS_REFRESH_UNIT,
            CREDENTIALS_REFRESH_SERVICE: renderCredentialsRefreshService(),
            CREDENTIALS_REFRESH_TIMER,
            CREDENTIALS_REFRESH_TIMER_UNIT: renderCredentialsRefreshTimer(),
            NGINX_LOAD_BALANCER_FILE,
            NGINX_LOAD_BALANCER: renderLoadBalancerTrust(fleet.loadBalancerCidrs),
        },
        body: scriptBody("fleet"),
    }));
}
