import { readJsonFile, writeJsonFile } from "../host/state";
import { fleetPaths } from "./fleetLayout";
import type { PackageLayer } from "../server/imageLayer";

/** What the host keeps of a fleet: deploy and rollback drive it from processes of their own. */
export interface FleetState {
    readonly name: string;
    readonly domain: string;
    readonly subnetIndex: number;
    readonly createdAt: string;
    /** The launch template's versions, oldest first: the user data each release published. */
    readonly launchTemplateVersions: readonly string[];
    /** The launch template version (1-based) the group launches: what a new app server boots with. */
    readonly groupVersion?: number;
    /** The app slots whose servers are in service. */
    readonly liveSlots: readonly number[];
    /** The packages the app servers' image has installed, so that later launches boot from the same image. */
    readonly preinstalled?: PackageLayer;
}

export function readFleetState(name: string): FleetState | undefined {
    return readJsonFile<FleetState>(fleetPaths(name).stateFile);
}

export function writeFleetState(state: FleetState): void {
    const paths = fleetPaths(state.name);
    writeJsonFile(paths.runtime, paths.stateFile, state);
}
