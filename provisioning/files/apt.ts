/** apt: security updates every day, installed unattended (Debian's unattended-upgrades defaults to the security archive). */
export function renderAutoUpgrades(): string {
    return ['APT::Periodic::Update-Package-Lists "1";', 'APT::Periodic::Unattended-Upgrade "1";', ""].join("\n");
}
