import {
    LOGIN_BANNER,
    LOGIN_DEFS,
    renderCoreDumpLimits,
    renderDisabledModules,
    renderKernelSettings,
    renderShellTimeout,
    renderSshdHardening,
} from "../files/hardening";
import { CORE_DUMP_LIMITS_FILE, DISABLED_MODULES_FILE, KERNEL_SETTINGS_FILE, SHELL_TIMEOUT_FILE, SSHD_HARDENING_FILE } from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";

/** sshd, banner, kernel modules and settings, login.defs, accounting. */
export function hardeningStep(): RunStep {
    return runStep("hardening", {
        description: "Harden sshd, the kernel and logins; turn on accounting.",
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
            LOGIN_DEFS: Object.entries(LOGIN_DEFS)
                .map(([key, value]) => `${key} ${value}`)
                .join("\n"),
        },
        body: scriptBody("hardening"),
    });
}
