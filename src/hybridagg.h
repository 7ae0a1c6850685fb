/*-------------------------------------------------------------------------
 * hybridagg.h
 *	  What the whole extension shares about how it was loaded.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_H
#define HYBRIDAGG_H

/* true in every process of a server that preloads the library */
extern bool hybridagg_preloaded;

#endif
