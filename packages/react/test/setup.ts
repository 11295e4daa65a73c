import { configure } from '@testing-library/react';

// findBy* and waitFor wait for a state React reaches by itself; their default
// 1 s limit was a timing assertion that failed on busy machines (a real
// server and clients take longer there). The test's own timeout is the limit.
configure({ asyncUtilTimeout: 25_000 });
