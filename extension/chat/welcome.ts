// The chat panel's welcome: which model answers, what the panel can do, how to mention files. The demo model is
// labelled as such. Pure: the page and the host build it with the same function.

export interface Welcome {
  title: string;
  lines: string[];
  demo: boolean;
}

export function welcome(model: { label: string; demo?: boolean } | undefined): Welcome {
  const demo = model?.demo === true;
  const title = model ? `Presage chat · ${model.label}` : 'Presage chat · no model loaded yet';
  const lines = [
    ...(demo ? ['Demo model: it shows the mechanics only (a small base model that does not follow questions). Run "Presage: Select Model" for a real code model.'] : []),
    ...(!model ? ['Answers start once a model is loaded; "Presage: Select Model" picks one.'] : []),
    'Ask about your code: explain, find where something happens, sketch a change. Answers draw on the open editors and the indexed workspace, and list their sources.',
    'Mention a file with @path (e.g. @src/shapes.ts) to put it in the context; the selection in the active editor goes along too.',
  ];
  return { title, lines, demo };
}
