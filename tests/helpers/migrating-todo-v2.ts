import { todoAppV2 } from './migrating-todo-app.js';

/** For `quire serve --reducers`: version 2 of the versioned todo app. */
export default todoAppV2;
