import {
    AUDIT_PACKAGES,
    LOGIN_BANNER,
    LOGIN_DEFS,
    renderCoreDumpLimits,
    renderDisabledModules,
    renderFail2banJail,
    renderKernelSettings,
    renderNeedrestartConfig,
    renderShellTimeout,
    renderSshdHardening,
} from "../files/hardening";
import { CORE_DUMP_LIMITS_FILE, DISABLED_MODULES_FILE, FAIL2BAN_JAIL_FILE, KERNEL_SETTINGS_FILE, NEEDRESTART_CONFIG_FILE, SHELL_TIMEOUT_FILE, SSHD_HARDENING_FILE } from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";

/** Security updates, sshd, banner, kernel modules and settings, login.defs, audit tools. */
export function hardeningStep(): RunStep {
    return runStep("hardening", {
        description: "Install pending security updates; harden sshd, the kernel and logins; add audit tools.",
        settings: {
            AUDIT_TOOLS: AUDIT_PACKAGES.join(" "),
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
            FAIL2BAN_JAIL_FILE,
            FAIL2BAN_JAIL: renderFail2banJail(),
            NEEDRESTART_CONFIG_FILE,
            NEEDRESTART_CONFIG: renderNeedrestartConfig(),
        },
        body: scriptBody("hardening"),
    });
}
