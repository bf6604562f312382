/* A background thread main.c starts and stops: the stop flag, the naps
 * that notice it, and the database it works on. */
#ifndef JOBS_JOB_H
#define JOBS_JOB_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct job {
    atomic_bool stop;
    pthread_t thread;
    bool started;
    char *url; /* the database (owned) */
};

/* Starts loop(job) on a thread of its own; false (after logging that the
 * job named `what` does not run) when the thread cannot be made. */
bool job_start(struct job *job, const char *database_url, void *(*loop)(void *job), const char *what);
/* Asks the job to stop, waits for it and frees what job_start took. */
void job_stop(struct job *job);
/* True once the job was asked to stop. */
bool job_stopping(struct job *job);
/* Sleeps ms in naps of 100 ms; false when asked to stop meanwhile. */
bool job_nap(struct job *job, int ms);

struct store_session;
/* The loop of a job that works on its database every every_ms (the first
 * time after first_ms) until asked to stop: opens a session when it has
 * none, runs work, logs the first of a run of failures (`failing`: what
 * does not happen meanwhile, then work's error), opens a new session after
 * a broken one. */
void job_every(struct job *job, int first_ms, int every_ms,
               bool (*work)(struct store_session *session, char *error, size_t error_size), const char *failing);

#endif
