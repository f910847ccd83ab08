// Ask the app's /chat endpoint through @gradio/client; print the reply as one JSON line.
// usage: node ask.mjs URL QUESTION [HISTORY_JSON]
import { Client } from "@gradio/client";

const [url, question = "", history = "[]"] = process.argv.slice(2);
const app = await Client.connect(url);
const result = await app.predict("/chat", { question, history: JSON.parse(history) });
console.log(JSON.stringify(result.data));
process.exit(0);
