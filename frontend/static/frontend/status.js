// Every signed-in page: start the shared connection and drive the header's indicator.
import { bindStatusIndicator, connection, readJSON } from "./realtime.js";

const strings = readJSON("bl-realtime-strings");
bindStatusIndicator(connection(), document.getElementById("conn-status"), strings);
