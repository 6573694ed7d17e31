import { APP_DATABASE_PRIVILEGES, renderMariadbConfig } from "../files/mariadb";
import { renderDatabaseUnitDropIn } from "../files/systemd";
import {
    APP_DATABASE,
    APP_DATABASE_ENV_FILE,
    APP_USER,
    DB_SOCKET,
    MARIADB_CONFIG_FILE,
    MARIADB_SERVER_ID_FILE,
    MARIADB_UNIT_DROP_IN,
} from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";

/** MariaDB on loopback, cleaned up, with the app's database and user (password generated on the server). */
export function databaseStep(): RunStep {
    return runStep("database", {
        description: "Configure MariaDB; create the app's database and user.",
        settings: {
            MARIADB_CONFIG_FILE,
            MARIADB_CONFIG: renderMariadbConfig(),
            MARIADB_SERVER_ID_FILE,
            MARIADB_UNIT_DROP_IN,
            MARIADB_UNIT_SETTINGS: renderDatabaseUnitDropIn(),
            APP_DATABASE,
            APP_USER,
            APP_DATABASE_PRIVILEGES: APP_DATABASE_PRIVILEGES.join(","),
            APP_DATABASE_ENV_FILE,
            DB_SOCKET,
        },
        body: scriptBody("database"),
    });
}
