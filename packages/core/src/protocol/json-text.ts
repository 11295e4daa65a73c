/** Whether `text` parses as JSON: what a presence state must be on the wire (see `setPresence`). */
export function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
