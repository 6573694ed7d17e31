import type { ModelService, ServiceModel, Shape } from "../../support/awsApiModels";

/**
 * Checks a resource's inputs, as the program declares them, against the AWS API operation that
 * creates it: every value reaches a member of the operation's input (by its own name, or as the
 * mapping says), and every string, number and list stays within the member's pattern, length,
 * range and enum. Pure: the models and the inputs are given.
 */

/** Where a Pulumi input goes in the model when its name does not say. */
export type Target =
    /** Another member of the same structure. */
    | { readonly member: string }
    /** A shape of the service's model (an input that the provider spreads over several calls). */
    | { readonly shape: string }
    /** A map of tag keys to values: each key is checked against the model's Tag Key, each value against its Value. */
    | { readonly tags: true }
    /** A map the provider sends as a list of pairs (CloudWatch's dimensions): each key against one shape, each value against another. */
    | { readonly pairs: { readonly key: string; readonly value: string } }
    /** Not in the operation's input at all; the reason says where it goes instead. */
    | { readonly unchecked: string };

export interface ResourceMapping {
    readonly service: ModelService;
    /** The operation that creates the resource: its input shape is where the resource's inputs start. */
    readonly operation: string;
    /** Where the inputs start instead, when the operation wraps them (Route53's change batch): a shape of the service's model. */
    readonly inputShape?: string;
    /** Inputs by path (keys joined by dots, list items left out: `rootBlockDevice.volumeSize`) that need a {@link Target}. */
    readonly targets?: Readonly<Record<string, Target>>;
    /**
     * Required members that no input carries because the provider fills them in, by path (the
     * structure's input path, then the model's member name: `Name`, `policyDetails.ResourceTypes`),
     * each with how: Pulumi's autonaming, the resource's id, a value of the provider's own.
     */
    readonly supplied?: Readonly<Record<string, string>>;
    /**
     * The member Pulumi's autonaming fills from the resource's name ({@link generatedName}) unless an
     * input names it, and the length and form AWS documents for it where the model leaves them out.
     */
    readonly autonamed?: { readonly member: string; readonly documented?: DocumentedName };
}

/** A name's limits as AWS's documentation states them: its longest length, the whole name's form, and where that is said. */
export interface DocumentedName {
    readonly max: number;
    readonly form: RegExp;
    readonly limit: string;
}

/** What is wrong with a name against its documented limits. */
export function documentedNameProblems(documented: DocumentedName, name: string): string[] {
    return [
        ...(name.length > documented.max ? [`${name} is ${name.length} characters (${documented.limit})`] : []),
        ...(documented.form.test(name) ? [] : [`${name} is not of the documented form (${documented.limit})`]),
    ];
}

/** The seven random hexadecimal characters pulumi-terraform-bridge adds to a name by default, as one draw of them. */
const AUTONAME_SUFFIX = "-3f9c2e1";

/**
 * The name Pulumi's autonaming gives a resource named `resourceName`: it, a dash and seven random hex
 * characters; lower case for an S3 bucket (pulumi-aws's provider/resources.go: AutoNameTransform
 * with strings.ToLower for aws_s3_bucket's bucket).
 */
export function generatedName(resourceName: string, type = ""): string {
    const name = `${resourceName}${AUTONAME_SUFFIX}`;
    return type === "aws:s3/bucket:Bucket" ? name.toLowerCase() : name;
}

export interface Finding {
    readonly path: string;
    readonly problem: string;
}

export interface CheckResult {
    /** Values outside what the model allows. */
    readonly violations: Finding[];
    /** Inputs that reach no member of the model and have no {@link Target}. */
    readonly unmapped: string[];
    /** Required members that no input carries and the mapping does not say the provider supplies. */
    readonly missing: string[];
}

const MEMBERLESS: readonly Shape["type"][] = ["boolean", "timestamp", "blob"];

function pascal(key: string): string {
    return key.charAt(0).toUpperCase() + key.slice(1);
}

/**
 * The shape's regular expression, anchored (AWS matches the whole value); undefined when JavaScript
 * cannot read it. The models are written for Java: `\p{all}` is any character.
 */
function patternOf(pattern: string): RegExp | undefined {
    const javascript = pattern.replace(/\\p\{all\}/g, "\\s\\S");
    for (const flags of javascript.includes("\\p{") ? ["u"] : ["u", ""]) {
        try {
            return new RegExp(`^(?:${javascript})$`, flags);
        } catch {
            continue;
        }
    }
    return undefined;
}

/** What is wrong with one scalar value against its shape: pattern, length, range, enum. */
export function scalarProblems(shape: Shape, value: unknown): string[] {
    const problems: string[] = [];
    if (shape.type === "string") {
        const text = String(value);
        if (shape.enum !== undefined && !shape.enum.includes(text)) {
            problems.push(`${JSON.stringify(text)} is not one of ${shape.enum.join(", ")}`);
        }
        const pattern = shape.pattern === undefined ? undefined : patternOf(shape.pattern);
        if (pattern !== undefined && !pattern.test(text)) {
            problems.push(`${JSON.stringify(text)} does not match the pattern ${shape.pattern}`);
        }
        const length = [...text].length;
        if (shape.min !== undefined && length < shape.min) {
            problems.push(`${JSON.stringify(text)} is shorter than ${shape.min} characters`);
        }
        if (shape.max !== undefined && length > shape.max) {
            problems.push(`${JSON.stringify(text.slice(0, 40))}... is longer than ${shape.max} characters (${length})`);
        }
    } else if (["integer", "long", "double", "float"].includes(shape.type)) {
        const number = Number(value);
        if (Number.isNaN(number)) {
            problems.push(`${JSON.stringify(value)} is not a number`);
        } else if ((shape.min !== undefined && number < shape.min) || (shape.max !== undefined && number > shape.max)) {
            problems.push(`${number} is outside ${shape.min ?? "-∞"} to ${shape.max ?? "∞"}`);
        }
    }
    return problems;
}

/** Checks a resource's inputs against the operation's input shape in `model`. */
export function checkInputs(model: ServiceModel, mapping: ResourceMapping, inputs: Readonly<Record<string, unknown>>): CheckResult {
    const result: CheckResult = { violations: [], unmapped: [], missing: [] };
    const operationInput = model.operations[mapping.operation]?.input?.shape;
    const inputShape = mapping.inputShape ?? operationInput;
    if (operationInput === undefined || inputShape === undefined) {
        throw new Error(`${model.metadata.serviceId} has no operation ${mapping.operation} with an input.`);
    }
    const shapeOf = (name: string): Shape => {
        const shape = model.shapes[name];
        if (shape === undefined) {
            throw new Error(`${model.metadata.serviceId}'s model has no shape ${name}.`);
        }
        return shape;
    };

    const checkPairs = (pairs: unknown, path: string, keyShapeName: string, valueShapeName: string) => {
        const keyShape = shapeOf(keyShapeName);
        const valueShape = shapeOf(valueShapeName);
        for (const [key, value] of Object.entries(pairs as Record<string, unknown>)) {
            result.violations.push(...scalarProblems(keyShape, key).map((problem) => ({ path: `${path} key`, problem })));
            result.violations.push(...scalarProblems(valueShape, value).map((problem) => ({ path: `${path}.${key}`, problem })));
        }
    };
    const checkTags = (tags: unknown, path: string) => {
        const tag = model.shapes.Tag;
        if (tag?.members === undefined) {
            throw new Error(`${model.metadata.serviceId}'s model has no Tag shape.`);
        }
        checkPairs(tags, path, tag.members.Key.shape, tag.members.Value.shape);
    };

    const checkValue = (shapeName: string, value: unknown, path: string): void => {
        const shape = shapeOf(shapeName);
        if (value === undefined || value === null || MEMBERLESS.includes(shape.type)) {
            return;
        }
        if (shape.type === "structure") {
            if (Array.isArray(value)) {
                // Pulumi lists what the API takes one at a time (rules, aliases): each item is one.
                value.forEach((item) => checkValue(shapeName, item, path));
            } else if (typeof value === "object") {
                checkStructure(shape, value as Record<string, unknown>, path);
            } else {
                result.violations.push({ path, problem: `${JSON.stringify(value)} is not a structure` });
            }
        } else if (shape.type === "list") {
            const items = Array.isArray(value) ? value : [value];
            if ((shape.min !== undefined && items.length < shape.min) || (shape.max !== undefined && items.length > shape.max)) {
                result.violations.push({ path, problem: `${items.length} items, outside ${shape.min ?? 0} to ${shape.max ?? "∞"}` });
            }
            items.forEach((item) => checkValue(shape.member?.shape ?? "", item, path));
        } else if (shape.type === "map") {
            for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
                checkValue(shape.key?.shape ?? "", key, `${path} key`);
                checkValue(shape.value?.shape ?? "", item, `${path}.${key}`);
            }
        } else {
            result.violations.push(...scalarProblems(shape, value).map((problem) => ({ path, problem })));
        }
    };

    const checkStructure = (shape: Shape, value: Record<string, unknown>, path: string): void => {
        const members = shape.members ?? {};
        const reached = new Set<string>();
        for (const [key, item] of Object.entries(value)) {
            const itemPath = path === "" ? key : `${path}.${key}`;
            const target = mapping.targets?.[itemPath];
            if (target !== undefined && "unchecked" in target) {
                continue;
            }
            if (
                (target !== undefined && "tags" in target) ||
                (target === undefined && key === "tags" && typeof item === "object" && !Array.isArray(item))
            ) {
                checkTags(item, itemPath);
                continue;
            }
            if (target !== undefined && "pairs" in target) {
                checkPairs(item, itemPath, target.pairs.key, target.pairs.value);
                continue;
            }
            if (target !== undefined && "shape" in target) {
                checkValue(target.shape, item, itemPath);
                continue;
            }
            const wanted = target !== undefined ? target.member : pascal(key);
            const member = Object.entries(members).find(
                ([name, spec]) => name.toLowerCase() === wanted.toLowerCase() || spec.locationName?.toLowerCase() === wanted.toLowerCase(),
            );
            if (member === undefined) {
                result.unmapped.push(itemPath);
                continue;
            }
            if (item !== undefined && item !== null) {
                reached.add(member[0]);
            }
            checkValue(member[1].shape, item, itemPath);
        }
        for (const required of shape.required ?? []) {
            const requiredPath = path === "" ? required : `${path}.${required}`;
            const autonamed = path === "" && mapping.autonamed?.member === required;
            if (!reached.has(required) && !autonamed && mapping.supplied?.[requiredPath] === undefined) {
                result.missing.push(requiredPath);
            }
        }
    };

    checkStructure(shapeOf(inputShape), inputs as Record<string, unknown>, "");
    return result;
}
