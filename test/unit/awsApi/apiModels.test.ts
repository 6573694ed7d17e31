import { expect } from "chai";
import { installMocks, type RecordedResource } from "../../support/pulumiMocks";
import {
    BOTOCORE_VERSION,
    ensureAwsModels,
    loadModel,
    MODEL_SERVICES,
    type ModelService,
    type ServiceModel,
} from "../../support/awsApiModels";
import { figure } from "../../support/figure";
import { declaredByProgram, HA_TOPOLOGY_CONFIG, SINGLE_TOPOLOGY_CONFIGS } from "../program/declared";
import { checkInputs, documentedNameProblems, generatedName, scalarProblems } from "./modelCheck";
import { RESOURCE_OPERATIONS } from "./resourceOperations";
import { checkedFleetName } from "../../../components/fleet/loadBalancer";

describe("every AWS resource the program declares, against AWS's own API models", function () {
    this.timeout(180_000);

    const declared: { config: string; resource: RecordedResource }[] = [];
    const models = new Map<ModelService, ServiceModel>();

    before(async () => {
        const dir = ensureAwsModels();
        for (const service of MODEL_SERVICES) {
            models.set(service, loadModel(dir, service));
        }
        await installMocks();
        for (const [config, values] of Object.entries({ ...SINGLE_TOPOLOGY_CONFIGS, ha: HA_TOPOLOGY_CONFIG })) {
            for (const resource of await declaredByProgram(values)) {
                if (resource.type.startsWith("aws:")) {
                    declared.push({ config, resource });
                }
            }
        }
    });

    const modelOf = (service: ModelService): ServiceModel => models.get(service) as ServiceModel;
    const checked = (resource: RecordedResource) =>
        checkInputs(modelOf(RESOURCE_OPERATIONS[resource.type].service), RESOURCE_OPERATIONS[resource.type], resource.inputs);
    /** The paths one kind of finding names, by resource type, each once. */
    const pathsOfEach = (kind: "unmapped" | "missing") =>
        [...new Set(declared.flatMap(({ resource }) => checked(resource)[kind].map((path) => `${resource.type} ${path}`)))].sort();

    it(`reads the models of botocore ${BOTOCORE_VERSION} from PyPI`, () => {
        figure(
            `AWS API models: botocore ${BOTOCORE_VERSION} (${MODEL_SERVICES.map((service) => `${service} ${modelOf(service).metadata.apiVersion}`).join(", ")})`,
        );
        expect(models.size).to.equal(MODEL_SERVICES.length);
    });

    it("maps every AWS resource type the program declares, in either topology, to the operation that creates it", () => {
        const types = [...new Set(declared.map(({ resource }) => resource.type))].sort();
        expect(types.filter((type) => RESOURCE_OPERATIONS[type] === undefined)).to.deep.equal([]);
        expect(
            Object.keys(RESOURCE_OPERATIONS).filter((type) => !types.includes(type)),
            "mappings of types no longer declared",
        ).to.deep.equal([]);
    });

    it("reaches a member of the operation's input with every input, or says where it goes instead", () => {
        expect(pathsOfEach("unmapped")).to.deep.equal([]);
    });

    it("carries every member the operation requires, or says how the provider fills it in", () => {
        expect(pathsOfEach("missing")).to.deep.equal([]);
    });

    it("keeps every string, number and list within the model's pattern, length, range and enum", () => {
        const violations = declared.flatMap(({ config, resource }) =>
            checked(resource).violations.map((finding) => `${config}: ${resource.name} ${finding.path}: ${finding.problem}`),
        );
        expect(violations).to.deep.equal([]);
    });

    /** What is wrong with the name Pulumi generates for a resource, had its component (index.ts's "webstack") this name instead. */
    const generatedNameProblems = ({ config, resource }: { config: string; resource: RecordedResource }, component: string) => {
        const mapping = RESOURCE_OPERATIONS[resource.type];
        const model = modelOf(mapping.service);
        const autonamed = mapping.autonamed;
        const given = Object.keys(resource.inputs).some((key) => key.toLowerCase() === autonamed?.member.toLowerCase());
        if (autonamed === undefined || given) {
            return [];
        }
        const name = generatedName(resource.name.replace(/^webstack/, component), resource.type);
        const input = model.shapes[model.operations[mapping.operation].input?.shape ?? ""];
        const shape = model.shapes[input.members?.[autonamed.member]?.shape ?? ""];
        const documented = autonamed.documented === undefined ? [] : documentedNameProblems(autonamed.documented, name);
        return [...scalarProblems(shape, name), ...documented].map((problem) => `${config}: ${resource.type} ${resource.name}: ${problem}`);
    };

    it("gives every name Pulumi generates from a resource's name a length and form that AWS accepts, its documented limits included", () => {
        expect(declared.every(({ resource }) => resource.name.startsWith("webstack"))).to.equal(true);
        expect(declared.flatMap((resource) => generatedNameProblems(resource, "webstack"))).to.deep.equal([]);
    });

    it("keeps them within those limits for a component named with the longest name a fleet accepts", () => {
        const longest = "shop-production-1";
        expect(() => checkedFleetName(longest)).not.to.throw();
        expect(() => checkedFleetName(`${longest}x`)).to.throw(/takes 17 at most/);
        expect(declared.flatMap((resource) => generatedNameProblems(resource, longest))).to.deep.equal([]);
    });
});
