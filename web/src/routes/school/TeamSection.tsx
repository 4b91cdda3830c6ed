// The case team: who handles and reads the case. The school lead adds staff
// of the case's school and takes them off; staff see the team.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { addTeamMember, listStaff, removeTeamMember } from "../../client/sdk.gen";
import type { TeamMemberOut } from "../../client/types.gen";
import { unwrap } from "../../lib/api";
import { ProblemView } from "../Problem";

function AddMember({ caseId, schoolId, team }: { caseId: string; schoolId: string; team: TeamMemberOut[] }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const staff = useQuery({
    queryKey: ["staff", schoolId],
    queryFn: () => unwrap(listStaff({ query: { school_id: schoolId, limit: 100 } })),
  });
  const onTeam = new Set(team.map((m) => m.user_id));
  const candidates = (staff.data?.items ?? []).filter((s) => !onTeam.has(s.id));

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const userId = String(new FormData(event.currentTarget).get("user_id") ?? "");
    setError(null);
    try {
      await unwrap(addTeamMember({ path: { case_id: caseId }, body: { user_id: userId } }));
      await queryClient.invalidateQueries({ queryKey: ["case", caseId] });
    } catch (problem) {
      setError(problem);
    }
  }

  if (staff.isError) return <ProblemView error={staff.error} onRetry={() => void staff.refetch()} />;
  if (!staff.data) return null;
  if (candidates.length === 0) return <p>{t("school.team.everyone")}</p>;
  return (
    <>
      {error !== null && <ProblemView error={error} />}
      <form className="team-add" onSubmit={(e) => void submit(e)}>
        <label htmlFor="team-member">{t("school.team.member")}</label>
        <select id="team-member" name="user_id" required defaultValue="">
          <option value="" disabled>
            {t("school.team.choose")}
          </option>
          {candidates.map((s) => (
            <option key={s.id} value={s.id}>
              {s.full_name} — {t(`school.team.roles.${s.role}`, { defaultValue: s.role })}
              {s.may_handle_cases ? "" : ` — ${t("school.team.readOnly")}`}
            </option>
          ))}
        </select>
        <button type="submit">{t("school.team.submit")}</button>
      </form>
    </>
  );
}

export function TeamSection({
  caseId,
  schoolId,
  team,
  error,
  isLead,
}: {
  caseId: string;
  schoolId: string;
  team: TeamMemberOut[] | undefined;
  error: unknown;
  isLead: boolean;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [refusal, setRefusal] = useState<unknown>(null);

  async function remove(member: TeamMemberOut) {
    setRefusal(null);
    try {
      await unwrap(removeTeamMember({ path: { case_id: caseId, user_id: member.user_id } }));
      await queryClient.invalidateQueries({ queryKey: ["case", caseId] });
    } catch (problem) {
      setRefusal(problem);
    }
  }

  return (
    <section aria-labelledby="team">
      <h2 id="team">{t("school.team.title")}</h2>
      {error !== null && error !== undefined && <ProblemView error={error} />}
      {refusal !== null && <ProblemView error={refusal} />}
      {team && team.length === 0 && <p>{t("school.team.none")}</p>}
      {team && team.length > 0 && (
        <ul className="team">
          {team.map((m) => (
            <li key={m.user_id}>
              <strong>{m.full_name}</strong> — {t(`school.team.roles.${m.role}`, { defaultValue: m.role })} —{" "}
              {m.may_handle_cases ? t("school.team.mayHandle") : t("school.team.readOnly")}
              {isLead && (
                <button type="button" className="secondary" onClick={() => void remove(m)}>
                  {t("school.team.remove", { name: m.full_name })}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {isLead && team ? (
        <details className="add">
          <summary>{t("school.team.add")}</summary>
          <AddMember caseId={caseId} schoolId={schoolId} team={team} />
        </details>
      ) : (
        <p className="help">{t("school.team.leadOnly")}</p>
      )}
    </section>
  );
}
