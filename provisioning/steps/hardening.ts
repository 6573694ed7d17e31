import {
    LOGIN_BANNER,
    LOGIN_DEFS,
    renderCoreDumpLimits,
    renderDisabledModules,
    renderKernelSettings,
    renderMetadataFirewall,
    renderMetadataFirewallService,
    renderShellTimeout,
    renderSshdHardening,
} from "../files/hardening";
import {
    CORE_DUMP_LIMITS_FILE,
    DISABLED_MODULES_FILE,
    KERNEL_SETTINGS_FILE,
    METADATA_FIREWALL_FILE,
    METADATA_FIREWALL_UNIT,
    SHELL_TIMEOUT_FILE,
    SSHD_HARDENING_FILE,
} from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";

/** sshd, banner, kernel modules and settings, login.defs, accounting, the metadata service for root alone. */
export function hardeningStep(): RunStep {
    return runStep("hardening", {
        description: "Harden sshd, the kernel and logins; turn on accounting; keep the instance role's credentials for root.",
        settings: {
            SSHD_HARDENING_FILE,
            SSHD_HARDENING: renderSshdHardening(),
            LOGIN_BANNER,
            CORE_DUMP_LIMITS_FILE,
            CORE_DUMP_LIMITS: renderCoreDumpLimits(),
            SHELL_TIMEOUT_FILE,
            SHELL_TIMEOUT: renderShellTimeout(),
            DISABLED_MODULES_FILE,
            DISABLED_MODULES: renderDisabledModules(),
            KERNEL_SETTINGS_FILE,
            KERNEL_SETTINGS: renderKernelSettings(),
            METADATA_FIREWALL_FILE,
            METADATA_FIREWALL: renderMetadataFirewall(),
            METADATA_FIREWALL_UNIT,
            METADATA_FIREWALL_SERVICE: renderMetadataFirewallService(),
            LOGIN_DEFS: Object.entries(LOGIN_DEFS)
                .map(([key, value]) => `${key} ${value}`)
                .join("\n"),
        },
        body: scriptBody("hardening"),
    });
}
