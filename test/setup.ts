// Test setup: no colours, and no test may reach the internet (the simulator lives on 127.0.0.1).
import nock from 'nock';

process.env.NO_COLOR = '1';
process.env.FORCE_COLOR = '0';
nock.disableNetConnect();
nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
