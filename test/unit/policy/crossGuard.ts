/**
 * Runs the policy pack's policies the way the Pulumi CLI's analyzer does, without the CLI: resource
 * policies once per resource with its inputs, stack policies once with every resource's outputs.
 * The resources come from the real WebServer and WebFleet components run under the shared Pulumi mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Policies, PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { resetRecords, resources, settle, valueOf, type RecordedResource } from "../../support/pulumiMocks";
import type { WebServerArgs } from "../../../components/webServer";
import type { WebFleetArgs } from "../../../components/webFleet";
import type { RemoteProvisionerArgs } from "../../../components/remoteProvisioner";
import type { Props, ResourceView } from "../../../policy/resourceView";

/** One stack as CrossGuard sees it. */
export interface StackViews {
    /** What resource policies get: each resource's inputs. */
    readonly inputs: readonly ResourceView[];
    /** What stack policies get: each resource's outputs. */
    readonly outputs: readonly ResourceView[];
}

export interface Violation {
    readonly policy: string;
    readonly message: string;
    readonly urn: string;
}

/** The part of Pulumi's mock monitor that holds what it answered for each resource. */
interface MockMonitor {
    getRegisteredResources(): Map<string, { urn: string; state: Record<string, unknown> }>;
}

/** A URN ends in `::<parent types>$<type>::<name>`. */
function typeAndName(urn: string): { type: string; name: string } {
    const [, , qualifiedType, name] = urn.split("::");
    return { type: qualifiedType.split("$").pop() ?? qualifiedType, name };
}

/**
 * Declares one WebServer under the mocks (install them first) and returns its resources. Outputs
 * are the state the mocked engine answered (the inputs plus e.g. the Elastic IP's publicIp); secret
 * outputs stay in their wire envelope, which no webstack policy reads.
 */
export async function webServerViews(name: string, args: WebServerArgs): Promise<StackViews> {
    resetRecords();
    const { WebServer } = await import("../../../components/webServer");
    await valueOf(new WebServer(name, args).sshCommand);
    return declaredViews();
}

/** Declares one WebFleet under the mocks and returns its resources, as {@link webServerViews} does. */
export async function webFleetViews(name: string, args: WebFleetArgs): Promise<StackViews> {
    resetRecords();
    const { WebFleet } = await import("../../../components/webFleet");
    await valueOf(new WebFleet(name, args).groupName);
    return declaredViews();
}

/** Declares one RemoteProvisioner (an existing server, configured over SSH) under the mocks and returns its resources. */
export async function remoteProvisionerViews(name: string, args: RemoteProvisionerArgs): Promise<StackViews> {
    resetRecords();
    const { RemoteProvisioner } = await import("../../../components/remoteProvisioner");
    new RemoteProvisioner(name, args);
    return declaredViews();
}

/**
 * The type part of the URN the engine gives a resource: every ancestor component's type and its own,
 * joined by `$` (the mock monitor's URNs keep only the parent's type).
 */
function qualifiedType(resource: RecordedResource, recorded: readonly RecordedResource[]): string {
    const parentName = resource.parentUrn === "" ? undefined : typeAndName(resource.parentUrn).name;
    const parent = recorded.find((candidate) => candidate.name === parentName);
    return parent === undefined ? resource.type : `${qualifiedType(parent, recorded)}$${resource.type}`;
}

async function declaredViews(): Promise<StackViews> {
    await settle();
    const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
    const registered = [...monitor.getRegisteredResources().values()];
    const inputs: ResourceView[] = [];
    const outputs: ResourceView[] = [];
    const recorded = resources();
    for (const resource of recorded) {
        const match = registered.find(({ urn }) => {
            const parsed = typeAndName(urn);
            return parsed.type === resource.type && parsed.name === resource.name;
        });
        if (match === undefined) {
            throw new Error(`The mock monitor has no URN for ${resource.type} ${resource.name}.`);
        }
        const urn = `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualifiedType(resource, recorded)}::${resource.name}`;
        inputs.push({ type: resource.type, name: resource.name, urn, props: resource.inputs, protect: resource.protect });
        outputs.push({ type: resource.type, name: resource.name, urn, props: match.state });
    }
    return { inputs, outputs };
}

/** A copy of a stack in which the first resource of `type` (whose name ends with `nameEnd`) is declared without `protect`. */
export function unprotected(views: StackViews, type: string, nameEnd = ""): StackViews {
    const first = views.inputs.find((view) => view.type === type && view.name.endsWith(nameEnd));
    if (first === undefined) {
        throw new Error(`The stack has no ${type} to unprotect.`);
    }
    return { ...views, inputs: views.inputs.map((view) => (view.urn === first.urn ? { ...view, protect: false } : view)) };
}

/** A copy of a stack in which the first resource of `type` (whose name ends with `nameEnd`) has other properties. */
export function withProps(views: StackViews, type: string, change: (props: Props) => Props, nameEnd = ""): StackViews {
    const first = views.inputs.find((view) => view.type === type && view.name.endsWith(nameEnd));
    if (first === undefined) {
        throw new Error(`The stack has no ${type} to change.`);
    }
    const edit = (list: readonly ResourceView[]) =>
        list.map((view) => (view.urn === first.urn ? { ...view, props: change(view.props) } : view));
    return { inputs: edit(views.inputs), outputs: edit(views.outputs) };
}

function unused(what: string): never {
    throw new Error(`${what} is not used by the webstack policies.`);
}

const OPTIONS = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};
const COMMON = {
    stackTags: new Map<string, string>(),
    getConfig: <T>() => ({}) as T,
    notApplicable: () => unused("notApplicable"),
};

function resourceArgs(view: ResourceView): ResourceValidationArgs {
    const { protect, ...resource } = view;
    return {
        ...COMMON,
        ...resource,
        props: { ...view.props },
        opts: { ...OPTIONS, protect: protect === true },
        isType: () => unused("isType"),
        asType: () => unused("asType"),
    };
}

function policyResource(view: ResourceView): PolicyResource {
    return {
        ...view,
        props: { ...view.props },
        opts: OPTIONS,
        dependencies: [],
        propertyDependencies: {},
        isType: () => unused("isType"),
        asType: () => unused("asType"),
    };
}

/** Every violation the policies report on the stack, in policy order. */
export async function violationsOf(policies: Policies, stack: StackViews): Promise<Violation[]> {
    const violations: Violation[] = [];
    for (const policy of policies) {
        if ("validateStack" in policy) {
            const args: StackValidationArgs = { ...COMMON, resources: stack.outputs.map(policyResource) };
            await policy.validateStack(args, (message, urn) => violations.push({ policy: policy.name, message, urn: urn ?? "" }));
            continue;
        }
        for (const view of stack.inputs) {
            for (const validate of [policy.validateResource ?? []].flat()) {
                await validate(resourceArgs(view), (message) => violations.push({ policy: policy.name, message, urn: view.urn }));
            }
        }
    }
    return violations;
}
