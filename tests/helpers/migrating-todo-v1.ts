import { todoAppV1 } from './migrating-todo-app.js';

/** For `quire serve --reducers`: version 1 of the versioned todo app. */
export default todoAppV1;
