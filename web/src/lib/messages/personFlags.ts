// A decision about one person on the case page: malicious intent suspected,
// or a refusal to take part, each with its reason in words.
export const fr = {
  title: "Décision sur une personne",
  person: "Personne",
  kind: "Décision",
  kinds: {
    malicious_intent: "Intention malveillante soupçonnée",
    refused: "Refuse de participer",
  },
  reason: "Raison (en mots, sans décrire l’image)",
  submit: "Inscrire la décision",
  help: "Une intention malveillante ou un refus de participer exige de confier le dossier à la police : la grille n’est pas complétée avec cette personne.",
  listLabel: "Décisions sur {{label}}",
};

export const en: typeof fr = {
  title: "A decision about a person",
  person: "Person",
  kind: "Decision",
  kinds: {
    malicious_intent: "Malicious intent suspected",
    refused: "Refuses to take part",
  },
  reason: "Reason (in words, without describing the image)",
  submit: "Record the decision",
  help: "Malicious intent or a refusal to take part calls for handing the case off to police: the grid is not completed with this person.",
  listLabel: "Decisions about {{label}}",
};
