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
import { checkInputs, generatedName, scalarProblems } from "./modelCheck";
import { RESOURCE_OPERATIONS } from "./resourceOperations";

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

    it("gives every name Pulumi generates from a resource's name a length and form that AWS accepts, its documented limits included", () => {
        const problems = declared.flatMap(({ config, resource }) => {
            const mapping = RESOURCE_OPERATIONS[resource.type];
            const model = modelOf(mapping.service);
            const autonamed = mapping.autonamed;
            const given = Object.keys(resource.inputs).some((key) => key.toLowerCase() === autonamed?.member.toLowerCase());
            if (autonamed === undefined || given) {
                return [];
            }
            const name = generatedName(resource.name);
            const input = model.shapes[model.operations[mapping.operation].input?.shape ?? ""];
            const shape = model.shapes[input.members?.[autonamed.member]?.shape ?? ""];
            const documented =
                autonamed.max !== undefined && name.length > autonamed.max
                    ? [`${name} is ${name.length} characters (${autonamed.limit})`]
                    : [];
            return [...scalarProblems(shape, name), ...documented].map(
                (problem) => `${config}: ${resource.type} ${resource.name}: ${problem}`,
            );
        });
        expect(problems).to.deep.equal([]);
    });
});
