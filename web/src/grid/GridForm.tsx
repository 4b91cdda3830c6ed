// The evaluation grid drawn from the template's declared schema (model.ts):
// one fieldset per section, one control per field, labels in the person's
// language. Answers only: nothing here takes a file.
import { type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { type Field, type GridModel, collectAnswers } from "./model";

function Control({ field }: { field: Field }) {
  const { t } = useTranslation();
  const id = `grid-${field.name.replace(".", "-")}`;
  const help = field.help ? `${id}-help` : undefined;
  const labelled = (
    <label htmlFor={id}>
      {field.label}
      {field.required && <span aria-hidden="true"> *</span>}
    </label>
  );
  let control;
  switch (field.kind) {
    case "choices":
      return (
        <fieldset className="grid-field" aria-describedby={help} data-required={field.required ? "true" : undefined}>
          <legend>
            {field.label}
            {field.required && <span aria-hidden="true"> *</span>}
          </legend>
          {field.options.map((o) => (
            <label key={o.value} className="inline">
              <input type="checkbox" name={field.name} value={o.value} /> {o.label}
            </label>
          ))}
          {help && <p id={help} className="help">{field.help}</p>}
        </fieldset>
      );
    case "choice":
      control = (
        <select id={id} name={field.name} required={field.required && !field.unknownAllowed} aria-describedby={help} defaultValue="">
          <option value="">{t("grid.choose")}</option>
          {field.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      );
      break;
    case "boolean":
      control = (
        <select id={id} name={field.name} required={field.required} aria-describedby={help} defaultValue="">
          <option value="">{t("grid.choose")}</option>
          <option value="true">{t("grid.yes")}</option>
          <option value="false">{t("grid.no")}</option>
        </select>
      );
      break;
    case "date":
    case "datetime":
      control = (
        <input
          id={id}
          name={field.name}
          type={field.kind === "date" ? "date" : "datetime-local"}
          required={field.required && !field.unknownAllowed}
          aria-describedby={help}
        />
      );
      break;
    case "integer":
      control = (
        <input id={id} name={field.name} type="number" inputMode="numeric" min={field.min} max={field.max}
          required={field.required && !field.unknownAllowed} aria-describedby={help} />
      );
      break;
    default:
      control = (
        <input id={id} name={field.name} type="text" maxLength={field.maxLength}
          required={field.required && !field.unknownAllowed} aria-describedby={help} />
      );
  }
  return (
    <div className="grid-field">
      {labelled}
      {control}
      {field.unknownAllowed && (
        <label className="inline">
          <input type="checkbox" name={`${field.name}.unknown`} /> {t("grid.unknown")}
        </label>
      )}
      {help && <p id={help} className="help">{field.help}</p>}
    </div>
  );
}

export function GridForm({
  model,
  onSubmit,
  children,
}: {
  model: GridModel;
  onSubmit: (answers: Record<string, Record<string, unknown>>) => void;
  children?: React.ReactNode;
}) {
  const { t } = useTranslation();
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    onSubmit(collectAnswers(model, new FormData(event.currentTarget)));
  }
  return (
    <form className="grid" onSubmit={submit} aria-label={model.title}>
      {children}
      {model.sections.map((s) => (
        <fieldset key={s.key} className="grid-section" data-section={s.key}>
          <legend>
            <h2>{s.label}</h2>
          </legend>
          {s.fields.map((f) => (
            <Control key={f.name} field={f} />
          ))}
        </fieldset>
      ))}
      <button type="submit">{t("grid.submit")}</button>
    </form>
  );
}
