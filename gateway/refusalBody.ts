/** The JSON body of a refusal answered before any execution: one error with its code (and reason, when there is one). */
export function refusalBody(code: string, message: string, reason?: string): string {
  return JSON.stringify({ errors: [{ message, extensions: reason === undefined ? { code } : { code, reason } }] });
}
