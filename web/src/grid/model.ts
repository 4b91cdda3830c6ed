// The evaluation grid as the template declares it (GET /grid-templates/current):
// its JSON Schema, with French and English labels in x-labels, x-enum-labels
// and x-help. Nothing about a version is written here: sections, fields,
// choices and their order all come from the template, so a new version
// renders without a change to the app.
import type { GridTemplateOut } from "../client/types.gen";

type Labels = Record<string, string>;
export type SchemaNode = {
  type?: string;
  enum?: string[];
  const?: unknown;
  format?: string;
  anyOf?: SchemaNode[];
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  "x-labels"?: Labels;
  "x-enum-labels"?: Record<string, Labels>;
  "x-help"?: Labels;
};

export type FieldKind = "choice" | "choices" | "text" | "date" | "datetime" | "integer" | "integers" | "boolean";

export type Field = {
  name: string; // section.field
  key: string;
  label: string;
  help: string | null;
  kind: FieldKind;
  required: boolean;
  options: { value: string; label: string }[];
  /** The answer may also be the constant "unknown" (anyOf [..., {const: "unknown"}]). */
  unknownAllowed: boolean;
  min?: number;
  max?: number;
  maxLength?: number;
};

export type Section = { key: string; label: string; fields: Field[]; required: boolean };
export type GridModel = { version: number; title: string; description: string; sections: Section[] };

function label(labels: Labels | undefined, lang: string, fallback: string): string {
  return labels?.[lang] ?? labels?.fr ?? fallback;
}

function kindOf(node: SchemaNode): FieldKind | null {
  if (node.type === "string" && node.enum) return "choice";
  if (node.type === "string" && node.format === "date") return "date";
  if (node.type === "string" && node.format === "date-time") return "datetime";
  if (node.type === "string") return "text";
  if (node.type === "integer" || node.type === "number") return "integer";
  if (node.type === "boolean") return "boolean";
  if (node.type === "array" && node.items?.type === "string" && node.items.enum) return "choices";
  if (node.type === "array" && (node.items?.type === "integer" || node.items?.type === "number")) return "integers";
  return null;
}

function field(section: string, key: string, node: SchemaNode, required: boolean, lang: string): Field | null {
  let value = node;
  let unknownAllowed = false;
  if (node.anyOf) {
    const others = node.anyOf.filter((n) => n.const !== "unknown");
    unknownAllowed = others.length < node.anyOf.length;
    if (others.length !== 1) return null;
    value = others[0];
  }
  const kind = kindOf(value);
  if (kind === null) return null;
  const choices = kind === "choices" ? value.items! : value;
  return {
    name: `${section}.${key}`,
    key,
    label: label(node["x-labels"], lang, key),
    help: node["x-help"] ? label(node["x-help"], lang, "") : null,
    kind,
    required,
    options: (choices.enum ?? []).map((v) => ({
      value: v,
      label: label(choices["x-enum-labels"]?.[v], lang, v),
    })),
    unknownAllowed,
    min: (kind === "integers" ? value.items : value)?.minimum,
    max: (kind === "integers" ? value.items : value)?.maximum,
    maxLength: value.maxLength,
  };
}

/** The grid to draw, in ``lang``: every section of the template, in its order. */
export function gridModel(template: GridTemplateOut, lang: string): GridModel {
  const schema = template.schema as unknown as SchemaNode;
  const topRequired = new Set(schema.required ?? []);
  const sections = Object.entries(schema.properties ?? {}).map(([key, node]) => {
    const required = new Set(node.required ?? []);
    return {
      key,
      label: label(node["x-labels"], lang, key),
      required: topRequired.has(key),
      fields: Object.entries(node.properties ?? {})
        .map(([name, child]) => field(key, name, child, required.has(name), lang))
        .filter((f): f is Field => f !== null),
    };
  });
  return {
    version: template.version,
    title: label(template.title as Labels, lang, ""),
    description: label(template.description as Labels | undefined, lang, ""),
    sections,
  };
}

export const UNKNOWN = "unknown";

/** The answers of a filled form, shaped as the template's schema wants them. */
export function collectAnswers(model: GridModel, form: FormData): Record<string, Record<string, unknown>> {
  const answers: Record<string, Record<string, unknown>> = {};
  for (const section of model.sections) {
    const values: Record<string, unknown> = {};
    for (const f of section.fields) {
      if (f.unknownAllowed && form.get(`${f.name}.unknown`) === "on") {
        values[f.key] = UNKNOWN;
        continue;
      }
      const value = read(f, form);
      if (value !== undefined) values[f.key] = value;
    }
    if (section.required || Object.keys(values).length > 0) answers[section.key] = values;
  }
  return answers;
}

function read(f: Field, form: FormData): unknown {
  if (f.kind === "choices") {
    const picked = form.getAll(f.name).map(String);
    return picked.length > 0 || f.required ? picked : undefined;
  }
  const raw = String(form.get(f.name) ?? "").trim();
  if (raw === "") return undefined;
  switch (f.kind) {
    case "integer":
      return Number(raw);
    case "integers":
      return raw
        .split(/[\s,;]+/)
        .filter(Boolean)
        .map(Number);
    case "boolean":
      return raw === "true";
    case "datetime":
      return new Date(raw).toISOString();
    default:
      return raw;
  }
}
